import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { diag, fail, ok, type Diagnostic, type Result } from '../../../core/diagnostics.js';
import { parseIni, type IniOptions, type IniValue } from './ini.js';

// A fail2ban configuration (filter, action, jail) after reading every file in fail2ban's order and merging them.
// `sections` holds [DEFAULT], the named sections, conditional values renamed `key?cond=v`, and `KNOWN/<name>`
// (the value an option had before a later file overrode it, for %(known/x)s and <known/x>).
export type Fail2banConf = {
  base: string; // path without extension, e.g. /etc/fail2ban/filter.d/sshd
  files: string[]; // every file read, in order
  defaults: IniOptions;
  sections: Map<string, IniOptions>;
  sectionAt: Map<string, { file: string; line: number }>; // the header of each section (the last file's)
};

const CONDITIONAL_RE = /^(\w+)(\?.+)$/;

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};
const stripExt = (p: string): string => p.replace(/\.(conf|local)$/, '');
const sortedIn = (dir: string, ext: string): string[] => {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => join(dir, f));
};

// X.conf, X.d/*.conf, X.local, X.d/*.local: those that exist, in that order (fail2ban's ConfigReader).
export const candidateFiles = (base: string): string[] =>
  [`${base}.conf`, ...sortedIn(`${base}.d`, '.conf'), `${base}.local`, ...sortedIn(`${base}.d`, '.local')].filter(
    isFile,
  );

type Parsed = Map<string, ReturnType<typeof parseIni>>;

const parseCached = (file: string, cache: Parsed): ReturnType<typeof parseIni> => {
  let r = cache.get(file);
  if (!r) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      return fail([diag(file, 0, `cannot read: ${(e as Error).message}`)]);
    }
    r = parseIni(text, file);
    cache.set(file, r);
  }
  return r;
};

const withLocals = (files: string[]): string[] => {
  const out: string[] = [];
  for (const f of files) {
    out.push(f);
    const local = `${stripExt(f)}.local`;
    if (!files.includes(local) && isFile(local)) out.push(local);
  }
  return out;
};

// Expands [INCLUDES] before/after recursively; every included file drags in its .local; loops are skipped.
const expandIncludes = (files: string[], seen: string[], cache: Parsed, errors: Diagnostic[]): string[] => {
  const out: string[] = [];
  for (const file of withLocals(files)) {
    if (!isFile(file)) continue;
    const parsed = parseCached(file, cache);
    if (!parsed.ok) {
      errors.push(...parsed.errors);
      continue;
    }
    const inc = parsed.value.sections.get('INCLUDES')?.options;
    const before: string[] = [];
    const after: string[] = [];
    for (const [key, list] of [
      ['before', before],
      ['after', after],
    ] as const) {
      const v = inc?.get(key)?.value ?? '';
      for (const name of v
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean)) {
        const r = isAbsolute(name) ? name : join(dirname(file), name);
        if (seen.includes(r)) continue;
        list.push(...expandIncludes([r], [...seen, file], cache, errors));
      }
    }
    out.push(...before, file, ...after);
  }
  return out;
};

// Reads a fail2ban config by path (X.conf, X.local or X without extension) the way fail2ban does.
export const loadFail2banConf = (path: string): Result<Fail2banConf> => {
  const base = stripExt(path);
  const start = candidateFiles(base);
  if (start.length === 0) return fail([diag(path, 0, `no ${base}.conf or ${base}.local found`)]);
  const errors: Diagnostic[] = [];
  const cache: Parsed = new Map();
  const files = expandIncludes(start, [], cache, errors);
  if (errors.length) return fail(errors);
  const defaults: IniOptions = new Map();
  const sections = new Map<string, IniOptions>();
  const sectionAt = new Map<string, { file: string; line: number }>();
  for (const file of files) {
    const parsed = parseCached(file, cache);
    if (!parsed.ok) continue;
    for (const [rawName, sec] of parsed.value.sections) {
      sectionAt.set(rawName, { file: sec.file, line: sec.line });
      if (rawName === 'DEFAULT') {
        for (const [k, v] of sec.options) defaults.set(k, v);
        continue;
      }
      let name = rawName;
      let opts = sec.options;
      const cond = CONDITIONAL_RE.exec(rawName);
      if (cond) {
        name = cond[1] ?? rawName;
        opts = new Map([...opts].map(([k, v]) => [k + (cond[2] ?? ''), v] as [string, IniValue]));
      }
      const existing = sections.get(name);
      if (!existing) {
        sections.set(name, new Map(opts));
        continue;
      }
      const known = sections.get(`KNOWN/${name}`) ?? new Map<string, IniValue>();
      for (const [k, v] of existing) if (opts.has(k)) known.set(k, v);
      sections.set(`KNOWN/${name}`, known);
      for (const [k, v] of opts) existing.set(k, v);
    }
  }
  return ok({ base, files, defaults, sections, sectionAt });
};
