import { diag, fail, ok, type Result } from '../../../core/diagnostics.js';
import type { IniValue } from './ini.js';
import type { Fail2banConf } from './conf.js';

const MAX_DEPTH = 10;
const PCT_RE = /%\(([^)]*)\)s/y;

const at = (v: IniValue | undefined, conf: Fail2banConf) => ({
  file: v?.file ?? `${conf.base}.conf`,
  line: v?.line ?? 0,
});

// Raw value as configparser's ChainMap(vars, section, DEFAULT) sees it.
const rawLookup = (
  conf: Fail2banConf,
  section: string,
  name: string,
  vars: Readonly<Record<string, string>>,
): IniValue | undefined => {
  if (name === '__name__') return { value: section, file: '', line: 0 };
  const v = vars[name];
  if (v !== undefined) return { value: v, file: '', line: 0 };
  return conf.sections.get(section)?.get(name) ?? conf.defaults.get(name);
};

// fail2ban's `%(section/opt)s`, `%(known/opt)s`, `%(default/opt)s` fallbacks for names not found directly.
const sectionLookup = (conf: Fail2banConf, section: string, name: string): IniValue | undefined => {
  const slash = name.lastIndexOf('/');
  if (slash < 0) return undefined;
  const sec = name.slice(0, slash);
  const opt = name.slice(slash + 1);
  const lower = sec.toLowerCase();
  if (lower === 'known') return conf.sections.get(`KNOWN/${section}`)?.get(opt) ?? conf.defaults.get(opt);
  if (lower === 'default') return conf.defaults.get(opt);
  const s = conf.sections.get(sec);
  if (!s) return undefined;
  return s.get(opt) ?? conf.defaults.get(opt);
};

// `chain`: the options being expanded around this one. An option met again on its own chain is a loop, refused at
// once: fail2ban stops at depth 10 too, but an option referring to itself twice or more per level (a mutated
// common.conf's _daemon inside __prefix_line) is expanded up to 2^10 times or more before that (found by
// bench/soak/config-fuzz.ts: loads of 1 to 15 s).
type Vars = Readonly<Record<string, string>>;
const interpolate = (
  conf: Fail2banConf,
  section: string,
  src: IniValue,
  vars: Vars,
  depth: number,
  chain: readonly string[] = [],
): Result<string> => {
  const where = at(src, conf);
  if (depth > MAX_DEPTH)
    return fail([diag(where.file, where.line, `interpolation nested deeper than ${MAX_DEPTH} levels`, section)]);
  const s = src.value;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const p = s.indexOf('%', i);
    if (p < 0) {
      out += s.slice(i);
      break;
    }
    out += s.slice(i, p);
    if (s[p + 1] === '%') {
      out += '%';
      i = p + 2;
      continue;
    }
    PCT_RE.lastIndex = p;
    const m = PCT_RE.exec(s);
    if (!m)
      return fail([
        diag(
          where.file,
          where.line,
          `bad "%" at ${JSON.stringify(s.slice(p, p + 12))}: write %% for a literal percent`,
          section,
        ),
      ]);
    const raw = m[1] ?? '';
    const sl = raw.lastIndexOf('/');
    const name = sl < 0 ? raw.toLowerCase() : raw.slice(0, sl + 1) + raw.slice(sl + 1).toLowerCase();
    const v = rawLookup(conf, section, name, vars) ?? sectionLookup(conf, section, name);
    if (v === undefined)
      return fail([diag(where.file, where.line, `%(${name})s refers to an option that is not defined`, section)]);
    if (chain.includes(name)) {
      const loop = [...chain.slice(chain.indexOf(name)), name].map((n) => `%(${n})s`).join(' -> ');
      return fail([diag(where.file, where.line, `${loop}: an option that refers to itself`, section)]);
    }
    const inner = v.file ? v : { ...v, file: where.file, line: where.line };
    const sub = v.value.includes('%')
      ? interpolate(conf, section, inner, vars, depth + 1, [...chain, name])
      : ok(v.value);
    if (!sub.ok) return sub;
    out += sub.value;
    i = p + m[0].length;
  }
  return ok(out);
};

// Value of `option` in `section` with %(x)s interpolated; `vars` (jail-passed values) win over the file.
// Options named `known/x` or `sec/x` read the KNOWN/ or the named section first (fail2ban's get_ex).
export const lookupOption = (
  conf: Fail2banConf,
  section: string,
  option: string,
  vars: Readonly<Record<string, string>> = {},
): Result<string | undefined> => {
  const slash = option.lastIndexOf('/');
  const name = slash < 0 ? option.toLowerCase() : option.slice(0, slash + 1) + option.slice(slash + 1).toLowerCase();
  let v: IniValue | undefined;
  let ctx = section;
  if (slash >= 0) {
    const sec = name.slice(0, slash);
    const lower = sec.toLowerCase();
    if (lower !== 'known' && lower !== 'default' && conf.sections.has(sec)) ctx = sec; // get_ex reads it in that section
    v =
      sectionLookup(conf, section, name) ??
      (lower === 'known' ? conf.sections.get(section)?.get(name.slice(slash + 1)) : undefined);
  }
  v ??= rawLookup(conf, section, name, vars);
  if (v === undefined) return ok(undefined);
  return interpolate(conf, ctx, v, vars, 1);
};
