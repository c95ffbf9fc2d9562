// fail2ban's angle-bracket substitution: <name> replaced by option `name`, nested tags inside-out,
// unknown tags left as they are (that is how <HOST> and <F-USER> survive to the regex stage).
const TAG_RE = /<([^ <>]+)>/g;
const MAX_REPLACE = 25;
// Tags that contain each other several times multiply: 25 rounds of doubling is 2^25 copies. The longest regex
// of Debian's stock filters is 2,321 characters; an option that would pass 256 KiB is refused before it is built
// (found by bench/soak/config-fuzz.ts: loads of 2 to 35 s ending in "Invalid string length").
const MAX_LENGTH = 256 * 1024;

export type TagLookup = (name: string) => string | undefined;

const resolveOne = (
  key: string,
  value: string,
  tags: Map<string, string>,
  ignore: ReadonlySet<string>,
  extra: TagLookup,
  cond: string,
): string => {
  const counts = new Map<string, number>();
  let v = value;
  TAG_RE.lastIndex = 0;
  let m = TAG_RE.exec(v);
  while (m) {
    const name = m[1] ?? '';
    if (ignore.has(name)) {
      TAG_RE.lastIndex = m.index + m[0].length;
      m = TAG_RE.exec(v);
      continue;
    }
    if (name === key || (counts.get(name) ?? 1) > MAX_REPLACE) {
      throw new Error(`self-referencing definition: <${name}> in option "${key}"`);
    }
    let repl = cond ? tags.get(`${name}?${cond}`) : undefined;
    repl ??= tags.get(name) ?? extra(name);
    if (repl === undefined) {
      TAG_RE.lastIndex = m.index + m[0].length;
      m = TAG_RE.exec(v);
      continue;
    }
    const parts = v.split(`<${name}>`);
    if (v.length + (parts.length - 1) * (repl.length - name.length - 2) > MAX_LENGTH) {
      throw new Error(`option "${key}" expands to more than ${MAX_LENGTH} characters (through <${name}>)`);
    }
    v = parts.join(repl);
    counts.set(name, (counts.get(name) ?? 0) + 1);
    TAG_RE.lastIndex = m.index;
    m = TAG_RE.exec(v);
  }
  return v;
};

// Returns the options with every resolvable tag substituted, or an error message.
export const substituteTags = (
  input: ReadonlyMap<string, string>,
  extra: TagLookup,
  ignore: ReadonlySet<string> = new Set(),
  cond = '',
): { ok: true; value: Map<string, string> } | { ok: false; message: string } => {
  const tags = new Map(input);
  try {
    // Passes repeat until nothing changes: a replacement can form a new tag left of the search position.
    for (let pass = 0, changed = true; changed && pass < 50; pass++) {
      changed = false;
      for (const [k, v] of tags) {
        if (ignore.has(k)) continue;
        const nv = resolveOne(k, v, tags, ignore, extra, cond);
        if (nv !== v) {
          tags.set(k, nv);
          changed = true;
        }
      }
    }
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
  return { ok: true, value: tags };
};
