import { expandEnv } from './env.js';
import { parseCidr, type Cidr } from '../../core/addr.js';
import { splitCommandTemplate } from '../../core/argv-template.js';
import { defaultJail, type IncrementConfig, type JailConfig } from '../jails/config.js';
import { compileFormula } from '../jails/formula.js';
import { Fields } from './fields.js';
import type { Pos, YNode } from './yaml-tree.js';
import { USEDNS_VALUES, type UseDns } from '../dns/host-failures.js';
import { parseBackend, type BackendChoice } from '../sources/journald-backend.js';

// One jail as written in jails/*.yaml (a mapping of jail name -> settings), in fail2ban's words.
export type LogPath = { path: string; tail: boolean };
export type RegexAt = { regex: string; file: string; line: number };
export type FilterRef = {
  name: string | null;
  failregex: RegexAt[];
  ignoreregex: RegexAt[];
  datepattern: string | null;
  maxlines: number;
  pos: Pos;
};
export type JailSpec = {
  config: JailConfig;
  enabled: boolean;
  filter: FilterRef;
  logpaths: LogPath[];
  actions: { name: string; pos: Pos }[];
  ignoreNames: { name: string; pos: Pos }[]; // DNS names in ignoreip, resolved by the loader
  usedns: UseDns | null; // host names in <HOST>/<DNS>: null = the filter's own setting, else "no"
  backend: BackendChoice; // files (logpath) or the journal (fail2ban's systemd[...])
  journalmatch: string[] | null; // replaces the filter's journalmatch when set
  pos: Pos;
};

export const JAIL_KEYS = [
  'enabled',
  'filter',
  'failregex',
  'ignoreregex',
  'datepattern',
  'maxlines',
  'logpath',
  'maxretry',
  'findtime',
  'bantime',
  'maxmatches',
  'bantime.increment',
  'bantime.factor',
  'bantime.formula',
  'bantime.multipliers',
  'bantime.maxtime',
  'bantime.rndtime',
  'bantime.overalljails',
  'ignoreip',
  'ignoreself',
  'ignorecommand',
  'ipv6prefix',
  'ipv4prefix',
  'escalate',
  'actions',
  'port',
  'protocol',
  'usedns',
  'backend',
  'journalmatch',
] as const;

export const ESCALATE_KEYS = ['count', 'v4', 'v6'] as const;

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const PROTOCOLS = ['tcp', 'udp', 'sctp', 'all'] as const;

// `defaults` (from sentryban.yaml) apply first; the jail's own keys win.
export const readJail = (
  f: Fields,
  name: string,
  node: YNode,
  path: string,
  defaults: Map<string, YNode>,
): JailSpec => {
  const own = f.map(node, path, JAIL_KEYS);
  const get = (k: string): YNode | undefined => own.get(k) ?? defaults.get(k);
  const p = (k: string): string => `${path}.${k}`;
  const cfg = defaultJail(name);
  cfg.maxretry = f.int(get('maxretry'), p('maxretry'), 5, 1);
  cfg.maxmatches = f.int(get('maxmatches'), p('maxmatches'), cfg.maxretry, 1);
  cfg.findtimeSec = f.duration(get('findtime'), p('findtime'), 600);
  cfg.bantimeSec = f.duration(get('bantime'), p('bantime'), 600, true);
  const increment = readIncrement(f, get, p); // checked even when off, so a typo never waits for the day it is on
  cfg.increment = f.bool(get('bantime.increment'), p('bantime.increment'), false) ? increment : null;
  cfg.ignore.self = f.bool(get('ignoreself'), p('ignoreself'), true);
  const ignoreNames: { name: string; pos: Pos }[] = [];
  for (const it of f.list(get('ignoreip'), p('ignoreip'), true)) {
    const c: Cidr | null = parseCidr(it.text);
    if (c) cfg.ignore.cidrs.push(c);
    else if (HOSTNAME.test(it.text) && /[A-Za-z]/.test(it.text)) ignoreNames.push({ name: it.text, pos: it.pos });
    else f.error(it.pos, p('ignoreip'), `"${it.text}" is not an address, a CIDR or a host name`);
  }
  const cmd = get('ignorecommand');
  if (cmd) {
    const text = f.scalar(cmd, p('ignorecommand')) ?? '';
    // fail2ban's <ip>/<F-USER> tags are kept through the split as $macros$, then put back.
    const coded = text.replace(/<([A-Za-z][A-Za-z0-9_-]*)>/g, (_m, n: string) => `$SBTAG_${n.replace(/-/g, '__')}$`);
    const r = text.trim() === '' ? null : splitCommandTemplate(coded, (n) => n.startsWith('SBTAG_'));
    if (r && !r.ok) f.error(cmd.pos, p('ignorecommand'), r.message);
    else if (r)
      cfg.ignore.command = r.argv.map((a) =>
        a.replace(/\$SBTAG_([A-Za-z0-9_]+)\$/g, (_m, n: string) => `<${n.replace(/__/g, '-')}>`),
      );
  }
  cfg.prefix.v6Bits = readPrefix(f, get('ipv6prefix'), p('ipv6prefix'), 128, 64);
  cfg.prefix.v4Bits = readPrefix(f, get('ipv4prefix'), p('ipv4prefix'), 32, 24);
  const esc = get('escalate');
  if (esc) {
    const m = f.map(esc, p('escalate'), ESCALATE_KEYS);
    cfg.escalate = {
      count: f.int(m.get('count'), p('escalate.count'), 3, 2),
      v4Bits: f.int(m.get('v4'), p('escalate.v4'), 24, 0),
      v6Bits: f.int(m.get('v6'), p('escalate.v6'), 48, 0),
    };
    if (cfg.escalate.v4Bits > 32) f.error(esc.pos, p('escalate.v4'), 'a v4 prefix is at most 32 bits');
    if (cfg.escalate.v6Bits > 128) f.error(esc.pos, p('escalate.v6'), 'a v6 prefix is at most 128 bits');
  }
  const port = get('port');
  if (port) cfg.port = f.string(port, p('port'), '');
  const proto = get('protocol');
  if (proto) {
    const t = f.string(proto, p('protocol'), 'tcp');
    if ((PROTOCOLS as readonly string[]).includes(t)) cfg.protocol = t as JailConfig['protocol'];
    else f.error(proto.pos, p('protocol'), `expected one of ${PROTOCOLS.join(', ')}, got "${t}"`);
  }
  const filterNode = get('filter');
  const filter: FilterRef = {
    name: filterNode ? f.string(filterNode, p('filter'), name) : null,
    failregex: f
      .list(get('failregex'), p('failregex'))
      .map((x) => ({ regex: x.text, file: x.pos.file, line: x.pos.line })),
    ignoreregex: f
      .list(get('ignoreregex'), p('ignoreregex'))
      .map((x) => ({ regex: x.text, file: x.pos.file, line: x.pos.line })),
    datepattern: get('datepattern')
      ? f
          .list(get('datepattern'), p('datepattern'))
          .map((x) => x.text)
          .join('\n')
      : null,
    maxlines: f.int(get('maxlines'), p('maxlines'), 1, 1),
    pos: filterNode?.pos ?? get('failregex')?.pos ?? node.pos,
  };
  if (filter.name === null && filter.failregex.length === 0) filter.name = name;
  const logpaths = f.list(get('logpath'), p('logpath')).map((x) => {
    const text = expandEnv(x.text, (msg) => f.error(x.pos, p('logpath'), msg));
    const m = /^(.*\S)\s+(tail|head)$/.exec(text);
    return m ? { path: m[1] as string, tail: m[2] === 'tail' } : { path: text, tail: false };
  });
  const actions = f.list(get('actions'), p('actions')).map((x) => ({ name: x.text, pos: x.pos }));
  const usedns = readUsedns(f, get('usedns'), p('usedns'));
  let backend: BackendChoice = { kind: 'files' };
  const be = get('backend');
  if (be) {
    const r = parseBackend(f.string(be, p('backend'), 'auto'));
    if (r.ok) backend = r.value;
    else f.error(be.pos, p('backend'), r.message);
  }
  const jm = get('journalmatch');
  const journalmatch = jm ? f.list(jm, p('journalmatch')).map((x) => x.text) : null;
  return {
    config: cfg,
    enabled: f.bool(get('enabled'), p('enabled'), true),
    filter,
    logpaths,
    actions,
    ignoreNames,
    usedns,
    backend,
    journalmatch,
    pos: node.pos,
  };
};

const readIncrement = (f: Fields, get: (k: string) => YNode | undefined, p: (k: string) => string): IncrementConfig => {
  const inc: IncrementConfig = {
    factor: 1,
    formula: null,
    multipliers: [],
    maxtimeSec: null,
    rndtimeSec: null,
    overalljails: false,
  };
  const factor = get('bantime.factor');
  if (factor) {
    const r = compileFormula(f.string(factor, p('bantime.factor'), '1'), []);
    if (r.ok) inc.factor = r.formula.evaluate({});
    else f.error(factor.pos, p('bantime.factor'), `expected an arithmetic expression: ${r.message}`);
  }
  const formula = get('bantime.formula');
  if (formula) {
    const r = compileFormula(f.string(formula, p('bantime.formula'), ''), ['ban.Time', 'ban.Count', 'banFactor']);
    if (r.ok) inc.formula = r.formula;
    else f.error(formula.pos, p('bantime.formula'), `${r.message} (names: ban.Time, ban.Count, banFactor)`);
  }
  for (const m of f.list(get('bantime.multipliers'), p('bantime.multipliers'), true)) {
    if (/^\d+$/.test(m.text)) inc.multipliers.push(Number(m.text));
    else f.error(m.pos, p('bantime.multipliers'), `expected whole numbers, got "${m.text}"`);
  }
  const maxtime = get('bantime.maxtime');
  if (maxtime) inc.maxtimeSec = f.duration(maxtime, p('bantime.maxtime'), 0);
  const rndtime = get('bantime.rndtime');
  if (rndtime) inc.rndtimeSec = f.duration(rndtime, p('bantime.rndtime'), 0);
  inc.overalljails = f.bool(get('bantime.overalljails'), p('bantime.overalljails'), false);
  return inc;
};

// true -> the default, false -> off, a number -> that many bits.
const readPrefix = (f: Fields, node: YNode | undefined, path: string, max: number, dflt: number): number | null => {
  if (!node) return null;
  const t = f.scalar(node, path)?.toLowerCase();
  if (t === undefined || ['false', 'no', 'off'].includes(t)) return null;
  if (['true', 'yes', 'on'].includes(t)) return dflt;
  const n = /^\/?(\d{1,3})$/.exec(t);
  if (n && Number(n[1]) <= max && Number(n[1]) > 0) return Number(n[1]);
  f.error(node.pos, path, `expected true, false or a prefix length 1..${max}, got "${t}"`);
  return null;
};

// fail2ban's usedns words; true/false as fail2ban's setUseDns maps them.
const readUsedns = (f: Fields, node: YNode | undefined, path: string): UseDns | null => {
  if (!node) return null;
  const t = (f.scalar(node, path) ?? '').toLowerCase();
  const v = ({ true: 'yes', false: 'no' } as Record<string, string>)[t] ?? t;
  if ((USEDNS_VALUES as readonly string[]).includes(v)) return v as UseDns;
  f.error(node.pos, path, `expected yes, warn, no or raw, got "${t}"`);
  return null;
};
