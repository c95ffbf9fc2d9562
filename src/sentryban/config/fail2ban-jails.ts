import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { diag, fail, ok, type Diagnostic, type Result } from '../../core/diagnostics.js';
import { mapFail2banAction } from '../actions/index.js';
import type { ActionSpec } from '../actions/index.js';
import { loadFail2banConf, type Fail2banConf } from '../filters/fail2ban/conf.js';
import { lookupOption } from '../filters/fail2ban/interpolate.js';
import { loadFilter, parseFilterRef } from '../filters/load.js';
import { Fields } from './fields.js';
import { JAIL_KEYS, readJail } from './jail-file.js';
import type { LoadedJail } from './loaded.js';
import type { Pos, YNode } from './yaml-tree.js';

// `--fail2ban-config /etc/fail2ban`: the enabled jails of jail.conf, jail.d/*.conf, jail.local, jail.d/*.local
// (with fail2ban's includes and %(x)s interpolation), their filters read unchanged, their banactions mapped to our
// backends. What cannot be honoured is refused by name, never silently dropped.
const SKIP_SECTIONS = /^(INCLUDES|Definition|Init|KNOWN\/.*)$/;
const PASSED = JAIL_KEYS.filter(
  (k) =>
    ![
      'enabled',
      'filter',
      'actions',
      'logpath',
      'failregex',
      'ignoreregex',
      'ipv6prefix',
      'ipv4prefix',
      'escalate',
    ].includes(k),
);
const TRUE = /^(1|on|true|yes)$/i;
const JAIL_FILTER_KEYS = ['failregex', 'ignoreregex', 'prefregex'] as const;
// Every jail.conf key the import reads itself (others only through %(name)s interpolation): docs/configuration.md.
export const FAIL2BAN_JAIL_KEYS: readonly string[] = [
  'enabled',
  'filter',
  'action',
  'logpath',
  'logencoding',
  ...JAIL_FILTER_KEYS,
  ...PASSED,
];

export const loadFail2banJails = (dir: string): Result<LoadedJail[]> => {
  const conf = loadFail2banConf(join(dir, 'jail'));
  if (!conf.ok) return conf;
  const errors: Diagnostic[] = [];
  const jails: LoadedJail[] = [];
  for (const name of [...conf.value.sections.keys()].filter((n) => !SKIP_SECTIONS.test(n) && !n.includes('?'))) {
    const get = (opt: string): string | undefined => {
      const r = lookupOption(conf.value, name, opt);
      if (!r.ok) {
        errors.push(...r.errors);
        return undefined;
      }
      return r.value;
    };
    if (!TRUE.test((get('enabled') ?? '').trim())) continue;
    const j = importJail(conf.value, name, dir, get, errors);
    if (j) jails.push(j);
  }
  return errors.length > 0 ? fail(errors) : ok(jails);
};

// Where a jail's option was written; one written nowhere (a default) is placed at the jail's [header].
const posOf = (conf: Fail2banConf, section: string, opt: string): Pos => {
  const v = conf.sections.get(section)?.get(opt) ?? conf.defaults.get(opt);
  if (v && v.line >= 1) return { file: v.file, line: v.line, col: 0 };
  const s = conf.sectionAt.get(section) ?? { file: `${conf.base}.conf`, line: 1 };
  return { file: s.file, line: s.line, col: 0 };
};

const importJail = (
  conf: Fail2banConf,
  name: string,
  dir: string,
  get: (o: string) => string | undefined,
  errors: Diagnostic[],
): LoadedJail | null => {
  const where = posOf(conf, name, 'enabled');
  const refuse = (opt: string, msg: string): void => {
    const p = posOf(conf, name, opt);
    errors.push(diag(p.file, p.line, msg, `${name}.${opt}`));
  };
  // backend (and journalmatch) go to our jail reader with the other keys: systemd[...] is read there.
  const journal = /^systemd\b/.test((get('backend') ?? 'auto').trim());
  const enc = (get('logencoding') ?? 'auto').trim().toLowerCase();
  if (!['auto', 'utf-8', 'utf8', 'ascii'].includes(enc))
    refuse('logencoding', `logencoding "${enc}" is not supported (UTF-8 only)`);
  // Our jail reader does the checking: feed it the interpolated values as a positioned mapping.
  const entries: { key: string; keyPos: Pos; value: YNode }[] = [];
  const scalar = (key: string, text: string): void => {
    const p = posOf(conf, name, key);
    entries.push({ key, keyPos: p, value: { kind: 'scalar', text, quoted: true, pos: p } });
  };
  for (const k of PASSED) {
    const v = get(k);
    if (v !== undefined && v.trim() !== '') scalar(k, v.trim());
  }
  const logs = (get('logpath') ?? '')
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .flatMap(expandGlob);
  if (logs.length === 0 && !journal) refuse('logpath', 'no log file found (fail2ban refuses this jail too)');
  const lp = posOf(conf, name, 'logpath');
  if (!journal)
    entries.push({
      key: 'logpath',
      keyPos: lp,
      value: { kind: 'seq', pos: lp, items: logs.map((text) => ({ kind: 'scalar', text, quoted: true, pos: lp })) },
    });
  const f = new Fields();
  const spec = readJail(f, name, { kind: 'map', entries, pos: where }, name, new Map());
  errors.push(...f.errors);
  const filterRef = (get('filter') ?? name).trim();
  const { name: fname, opts } = parseFilterRef(filterRef);
  // fail2ban sets logtype = journal for filters of a systemd jail (common.conf's journal prefix).
  if (journal && opts.logtype === undefined) opts.logtype = 'journal';
  // Jail-level failregex/ignoreregex/prefregex replace the filter's, as in fail2ban; extending them through
  // %(known/failregex)s is refused by name rather than read wrongly.
  for (const key of JAIL_FILTER_KEYS) {
    const raw = conf.sections.get(name)?.get(key)?.value;
    if (raw === undefined) continue;
    if (/known\//.test(raw)) {
      refuse(
        key,
        `a jail-level ${key} that extends the filter's (%(known/${key})s) is not supported by the import; write the whole list`,
      );
      continue;
    }
    const v = get(key);
    if (v !== undefined) opts[key] = v;
  }
  // usedns comes from jail.conf ([DEFAULT] usedns = warn in the stock file), as fail2ban reads it.
  const filter = loadFilter(fname.includes('/') ? fname : join(dir, 'filter.d', fname), {
    jailOpts: opts,
    fail2banDir: dir,
    ...(spec.usedns ? { usedns: spec.usedns } : {}),
    defaultUsedns: 'no',
  });
  // A filter that is not there (no file to point at) is the jail's `filter` line's error.
  const fp = posOf(conf, name, 'filter');
  if (!filter.ok) {
    for (const e of filter.errors) {
      const at = { file: fp.file, line: fp.line, path: `${name}.filter`, message: `${e.file}: ${e.message}` };
      errors.push(e.line >= 1 ? e : { ...e, ...at });
    }
  }
  const actions: ActionSpec[] = [];
  for (const line of (get('action') ?? '')
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const a = parseFilterRef(line);
    const p = posOf(conf, name, 'action');
    // `<known/chain>` and the like mean "the action's own default": leave those to our backend's default.
    const params = Object.fromEntries(Object.entries(a.opts).filter(([, v]) => !/^<known\/[^>]+>$/.test(v)));
    const r = mapFail2banAction(a.name, params, {
      jail: name,
      where: { file: p.file, line: p.line, path: `${name}.action` },
    });
    if (r.ok) actions.push(r.value);
    else errors.push(...r.errors);
  }
  if (!filter.ok) return null;
  return {
    spec: { ...spec, filter: { ...spec.filter, name: filterRef } },
    filter: filter.value,
    actions,
  };
};

// fail2ban expands globs once, at start; only files that exist then. A trailing " tail"/" head" is kept.
const expandGlob = (entry: string): string[] => {
  const m = /^(.*?)(\s+(?:tail|head))?$/.exec(entry);
  const path = m?.[1] ?? entry;
  const suffix = m?.[2] ?? '';
  if (!/[*?[]/.test(path)) return existsSync(path) ? [entry] : [];
  // A class RegExp refuses ("[z-a]", an unclosed "[") matches no file: the jail is then refused for its logpath,
  // never an exception out of the loader (found by bench/soak/config-fuzz.ts).
  let re: RegExp;
  const source = basename(path)
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  try {
    re = new RegExp(`^${source}$`);
  } catch {
    return [];
  }
  const d = dirname(path);
  try {
    return readdirSync(d)
      .filter((n) => re.test(n))
      .sort()
      .map((n) => `${join(d, n)}${suffix}`);
  } catch {
    return [];
  }
};
