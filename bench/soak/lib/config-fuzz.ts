import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { Diagnostic } from '../../../src/core/diagnostics.js';
import { parseConf } from '../../../src/portsentry/conf.js';
import { loadFail2banJails } from '../../../src/sentryban/config/fail2ban-jails.js';
import { loadConfig } from '../../../src/sentryban/config/load.js';
import { loadFilter } from '../../../src/sentryban/filters/load.js';

// The config-fuzz case (docs/reliability.md): fast-check runs of every config loader on near-valid inputs
// (mutations of the bundled configs and of Debian's stock fail2ban files). A crash is an exception escaping the
// loader instead of a Result error; a hang is one load over 1 s of CPU time (the process's: on a shared machine
// wall time measures the scheduler too); every error must name a file and a line >= 1.
export const ROOT = ((): string => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!readdirSync(d).includes('package.json')) d = dirname(d); // from bench/ and from dist-bench/bench/
  return d;
})();
export const F2B = '/etc/fail2ban';
export const HANG_MS = 1000;

// One edit of a text: by line (delete, duplicate, swap, insert) or by character (replace, truncate, insert).
type Mutation =
  | { op: 'delete' | 'dup' | 'truncate'; at: number }
  | { op: 'swap'; at: number; to: number }
  | { op: 'line'; at: number; text: string }
  | { op: 'replace'; at: number; len: number; text: string }
  | { op: 'indent'; at: number; text: string };

const CHARS = [
  '\0',
  '\r',
  '\t',
  '\n',
  '\uFEFF',
  '\u2028',
  '\u001b',
  '\\',
  '"',
  "'",
  '%',
  '$',
  '{',
  '}',
  '[',
  ']',
  '#',
  ';',
  ':',
  '=',
  '<',
  '>',
  '(',
  ')',
  '|',
  '?',
  '*',
  '+',
  '.',
  ',',
  '-',
  ' ',
  '\u00e9',
  '\ud800',
  '9'.repeat(20),
];

const mutation = (snippets: readonly string[]): fc.Arbitrary<Mutation> => {
  const at = fc.nat();
  const text = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...snippets) },
    { weight: 2, arbitrary: fc.constantFrom(...CHARS) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 24 }) },
  );
  return fc.oneof(
    fc.record({ op: fc.constantFrom('delete' as const, 'dup' as const, 'truncate' as const), at }),
    fc.record({ op: fc.constant('swap' as const), at, to: fc.nat() }),
    fc.record({ op: fc.constant('line' as const), at, text }),
    fc.record({ op: fc.constant('replace' as const), at, len: fc.nat({ max: 16 }), text }),
    fc.record({ op: fc.constant('replace' as const), at, len: fc.nat({ max: 16 }), text }),
    fc.record({ op: fc.constant('indent' as const), at, text: fc.constantFrom(' ', '  ', '\t', '    ') }),
  );
};

export const mutate = (text: string, ms: readonly Mutation[]): string => {
  let t = text;
  for (const m of ms) {
    const lines = t.split('\n');
    const i = m.at % Math.max(1, lines.length);
    switch (m.op) {
      case 'delete':
        lines.splice(i, 1);
        break;
      case 'dup':
        lines.splice(i, 0, lines[i] ?? '');
        break;
      case 'swap': {
        const j = m.to % lines.length;
        const a = lines[i] ?? '';
        lines[i] = lines[j] ?? '';
        lines[j] = a;
        break;
      }
      case 'line':
        lines.splice(i, 0, m.text);
        break;
      case 'indent':
        lines[i] = m.text + (lines[i] ?? '');
        break;
      case 'truncate':
        t = t.slice(0, m.at % (t.length + 1));
        continue;
      case 'replace': {
        const p = m.at % (t.length + 1);
        t = t.slice(0, p) + m.text + t.slice(p + m.len);
        continue;
      }
    }
    t = lines.join('\n');
  }
  return t;
};

// A text: one of the bases, then up to `max` mutations.
const mutated = (bases: readonly string[], snippets: readonly string[], max = 6): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom(...bases), fc.array(mutation(snippets), { maxLength: max })).map(([b, ms]) => mutate(b, ms));

// Several files, one of them mutated (a near-valid configuration has one mistake, not one per file).
const mutatedOne = (
  slots: ReadonlyArray<readonly string[]>,
  snippets: readonly string[],
  max = 4,
): fc.Arbitrary<string[]> =>
  fc
    .tuple(
      fc.tuple(...slots.map((b) => fc.constantFrom(...b))),
      fc.nat({ max: slots.length - 1 }),
      fc.array(mutation(snippets), { minLength: 1, maxLength: max }),
    )
    .map(([texts, i, ms]) => texts.map((t, k) => (k === i ? mutate(t, ms) : t)));

export type Outcome = { errors: Diagnostic[] }; // what a load returned (ok: no errors)
export type Parser = {
  name: string;
  arb: fc.Arbitrary<string[]>;
  load: (texts: string[]) => Promise<Outcome>;
  close: () => void;
};

const read = (p: string): string => readFileSync(p, 'utf8');
const filesIn = (dir: string, re: RegExp): string[] =>
  readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));

// --- portsentry.conf (read as latin1 bytes, as portsentry reads it) ---
const PS_SNIPPETS = [
  'TCP_PORTS="1,7,9,11"',
  'UDP_PORTS=""',
  'BLOCK_TCP="2"',
  'KILL_ROUTE="/sbin/route add -host $TARGET$ reject"',
  'KILL_HOSTS_DENY="ALL: $TARGET$ : DENY"',
  'KILL_RUN_CMD="/bin/echo $TARGET$ $PORT$ $MODE$"',
  'SCAN_TRIGGER="0"',
  'PORT_BANNER="** UNAUTHORIZED ACCESS PROHIBITED **"',
  'ADVANCED_PORTS_TCP="1024"',
  'IGNORE_FILE="/tmp/x"',
  'KILL_RUN_CMD_FIRST = "1"',
  'RESOLVE_HOST = "1"',
  '"',
  '$TARGET$',
  '#',
  'KILL_ROUTE="a `b` $(c) | d; e"',
  'X="',
];
export const portsentryParser = (): Parser => {
  const bases = [read(join(ROOT, 'config', 'portsentry.conf'))];
  const file = '/fuzz/portsentry.conf';
  return {
    name: 'portsentry.conf',
    arb: mutated(bases, PS_SNIPPETS, 8).map((t) => [t]),
    close: () => {},
    load: async ([t]) => ({ errors: parseConf(Buffer.from(t as string, 'utf8').toString('latin1'), file).errors }),
  };
};

// --- sentryban YAML: sentryban.yaml, jails/*.yaml, filters/*.yaml in a config folder ---
const YAML_SNIPPETS = [
  '  maxretry: 3',
  '  bantime: 10m',
  'bantime: -1',
  '  findtime: 1d',
  '  ignoreip: 127.0.0.1/8 ::1 192.0.2.0/24',
  '  actions: [hostsdeny]',
  '  filter: sshd',
  '  filter: nginx-http-auth[mode=aggressive]',
  "  failregex: 'from <HOST>$'",
  '  logpath: /var/log/auth.log',
  'x:',
  '  - a',
  '- b',
  '&a',
  '*a',
  '<<: *a',
  '!!binary',
  '? x',
  '---',
  '...',
  '{',
  '[',
  'a: {b: [c',
  '  usedns: yes',
  '  backend: systemd',
  '  escalate: [1h, 1d]',
  '  port: ssh',
  '  datepattern: "{^LN-BEG}"',
  'state: /tmp/x',
  '  bantime.increment: true',
  '  bantime.formula: ban.Time * 2',
  'defaults:',
  'actions:',
  '  deny:',
  '    backend: nftables',
  '${SENTRYTOOLS_STATE:-state}',
  '${X',
  '  maxlines: 3',
  'failregex:',
  "  - '(?P<host>\\S+)'",
  "prefregex: '^<F-CONTENT>.+</F-CONTENT>$'",
  '  ignoreip: [a.b, 203.0.113.0/33]',
  '  enabled: false',
  '  ipv6prefix: 64',
  'name: x',
  'journalmatch: _COMM=sshd',
];
export const yamlParser = async (): Promise<Parser> => {
  const fixtures = join(ROOT, 'test', 'fixtures', 'jails');
  const mains = [
    read(join(ROOT, 'sentryban.yaml')),
    'state: state\nactions:\n  hostsdeny:\n    backend: hostsdeny\n    file: h\n',
  ];
  const jailFiles = [
    ...filesIn(join(ROOT, 'jails'), /\.yaml$/),
    ...readdirSync(fixtures).map((d) => join(fixtures, d, 'jail.yaml')),
  ];
  // the fixtures' jails replay a log and have no logpath: given one, they load (near-valid means valid before mutation)
  const jailTexts = jailFiles
    .map(read)
    .map((t) => (/^\s+logpath:/m.test(t) ? t : t.replace(/^(\S[^\n]*:)\n/, '$1\n  logpath: a.log\n')));
  const filters = filesIn(join(ROOT, 'filters'), /\.yaml$/).map(read);
  const dir = mkdtempSync(join(tmpdir(), 'config-fuzz-yaml-'));
  const none = async (): Promise<Array<{ address: string }>> => {
    throw Object.assign(new Error('fuzz: no lookups'), { code: 'ENOTFOUND' });
  };
  const load = async ([m, j, f]: string[]): Promise<Outcome> => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'jails'), { recursive: true });
    writeFileSync(join(dir, 'sentryban.yaml'), m as string);
    writeFileSync(join(dir, 'jails', 'fuzz.yaml'), j as string);
    if (f !== undefined) {
      mkdirSync(join(dir, 'filters'));
      writeFileSync(join(dir, 'filters', 'sshd.yaml'), f);
    }
    const r = await loadConfig(dir, { fail2banDir: F2B, lookup: none });
    return { errors: r.ok ? [] : r.errors };
  };
  const jails: string[] = [];
  for (const j of jailTexts) if ((await load([mains[0] as string, j])).errors.length === 0) jails.push(j);
  return {
    name: 'sentryban YAML',
    load,
    close: () => rmSync(dir, { recursive: true, force: true }),
    arb: fc
      .tuple(mutatedOne([mains, jails, filters], YAML_SNIPPETS), fc.boolean())
      .map(([[m, j, f], withFilter]) => (withFilter ? [m, j, f] : [m, j]) as string[]),
  };
};

// --- fail2ban filter .conf (a stock filter mutated, in a copy of filter.d, with its includes) ---
const F2B_SNIPPETS = [
  '[INCLUDES]',
  '[Definition]',
  '[Init]',
  'before = common.conf',
  'after = fuzz.local',
  'before = fuzz.conf',
  'failregex = ^from <HOST>$',
  '            ^x <ADDR> y$',
  'prefregex = ^<F-CONTENT>.+</F-CONTENT>$',
  'ignoreregex =',
  'mode = aggressive',
  'datepattern = {^LN-BEG}',
  'datepattern = %%Y-%%m-%%d',
  'maxlines = 5',
  'journalmatch = _COMM=x',
  '%(known/failregex)s',
  '%(_daemon)s',
  '<mdre-<mode>>',
  '%(__prefix_line)s',
  '(?P<host>\\S+)',
  '(?(cond)a|b)',
  '(?i)',
  '(?P=x)',
  '<F-USER>',
  '</F-USER>',
  '<F-MLFID>',
  '<SKIPLINES>',
  '<HOST>',
  '<ADDR>',
  '<CIDR>',
  'a = %(a)s',
  'usedns = no',
  'logtype = journal',
  '_daemon = sshd',
  '\\',
];
export const fail2banFilterParser = (): Parser => {
  const dir = mkdtempSync(join(tmpdir(), 'config-fuzz-filter-'));
  cpSync(join(F2B, 'filter.d'), join(dir, 'filter.d'), { recursive: true });
  const bases = [
    'sshd',
    'nginx-http-auth',
    'postfix',
    'dovecot',
    'common',
    'portsentry',
    'apache-common',
    'recidive',
  ].map((n) => read(join(F2B, 'filter.d', `${n}.conf`)));
  const file = join(dir, 'filter.d', 'fuzz.conf');
  return {
    name: 'fail2ban filter',
    arb: fc
      .tuple(
        mutated(bases, F2B_SNIPPETS, 8),
        fc.constantFrom('', '[mode=aggressive]', '[mode=ddos]', '[mode=<x>]', '[logtype=journal]'),
      )
      .map(([t, o]) => [t, o]),
    close: () => rmSync(dir, { recursive: true, force: true }),
    load: async ([t, o]) => {
      writeFileSync(file, t as string);
      const r = loadFilter(`${file}${o as string}`, { usedns: 'no' });
      return { errors: r.ok ? [] : r.errors };
    },
  };
};

// --- fail2ban jails: jail.local (and at times jail.conf) mutated, in a copy of /etc/fail2ban ---
const JAIL_SNIPPETS = [
  '[DEFAULT]',
  '[sshd]',
  '[postfix]',
  '[dovecot]',
  '[nginx-http-auth]',
  'enabled = true',
  'enabled = false',
  'backend = polling',
  'backend = systemd',
  'logpath = /var/log/auth.log',
  'logpath = %(sshd_log)s',
  'maxretry = 3',
  'bantime = 1h',
  'bantime = -1',
  'findtime = 10m',
  'banaction = iptables-multiport',
  'banaction = nftables',
  'action = hostsdeny[file="/tmp/h"]',
  'action = %(action_mwl)s',
  'filter = sshd[mode=aggressive]',
  'filter = nosuch',
  'port = ssh',
  'ignoreip = 127.0.0.1/8 ::1',
  'bantime.increment = true',
  'bantime.formula = ban.Time * 2',
  'failregex = ^x <HOST>$',
  '[INCLUDES]',
  'before = paths-debian.conf',
  'usedns = no',
  'ignorecommand = /bin/true',
  'mode = aggressive',
  '%(known/failregex)s',
  '%(x)s',
  '%(',
  'protocol = udp',
];
export const fail2banJailsParser = (): Parser => {
  const dir = mkdtempSync(join(tmpdir(), 'config-fuzz-jails-'));
  cpSync(F2B, dir, { recursive: true });
  rmSync(join(dir, 'jail.d'), { recursive: true, force: true });
  mkdirSync(join(dir, 'jail.d'));
  const jailConf = read(join(F2B, 'jail.conf'));
  for (const f of ['auth.log', 'mail.log', 'error.log']) writeFileSync(join(dir, f), '');
  // near-valid: each loads as it is (its logs exist), before a mutation
  const locals = [
    `${read(join(F2B, 'jail.d', 'defaults-debian.conf')).trimEnd()}\nbackend = polling\nlogpath = ${dir}/auth.log\n`,
    '[DEFAULT]\nbantime = 1h\nbanaction = iptables-multiport\n\n' +
      `[sshd]\nenabled = true\nlogpath = ${dir}/auth.log\nmaxretry = 3\n`,
    `[postfix]\nenabled = true\nmode = aggressive\nlogpath = ${dir}/mail.log\n\n` +
      `[dovecot]\nenabled = true\nlogpath = ${dir}/mail.log\n`,
    `[nginx-http-auth]\nenabled = true\nlogpath = ${dir}/error.log\naction = hostsdeny[file="${dir}/hosts.deny"]\n`,
  ];
  return {
    name: 'fail2ban jails',
    arb: fc.oneof(
      { weight: 3, arbitrary: mutated(locals, JAIL_SNIPPETS, 6).map((l) => [l]) },
      { weight: 1, arbitrary: mutatedOne([locals, [jailConf]], JAIL_SNIPPETS) },
    ),
    close: () => rmSync(dir, { recursive: true, force: true }),
    load: async ([l, c]) => {
      writeFileSync(join(dir, 'jail.local'), l as string);
      writeFileSync(join(dir, 'jail.conf'), c ?? jailConf);
      const r = loadFail2banJails(dir);
      return { errors: r.ok ? [] : r.errors };
    },
  };
};

export const PARSERS: ReadonlyArray<() => Parser | Promise<Parser>> = [
  portsentryParser,
  yamlParser,
  fail2banFilterParser,
  fail2banJailsParser,
];

export type Finding = { kind: 'crash' | 'hang' | 'no-position'; detail: string; input: string[] };
export type FuzzStats = {
  parser: string;
  runs: number;
  refused: number;
  crashes: number;
  hangs: number;
  noPosition: number;
  maxMs: number; // the slowest load, wall time
  maxCpuMs: number; // the most CPU time one load took
  findings: Finding[];
};

// Every error names a file and a line >= 1.
export const unplaced = (es: readonly Diagnostic[]): Diagnostic[] =>
  es.filter((d) => typeof d.file !== 'string' || d.file === '' || !Number.isInteger(d.line) || d.line < 1);

// Runs one parser for `ms` (or `numRuns` inputs) from `seed`; keeps the first few inputs of each finding kind.
type FuzzOptions = { seed: number; ms?: number; numRuns?: number };
export const fuzz = async (p: Parser | Promise<Parser>, o: FuzzOptions): Promise<FuzzStats> => {
  p = await p;
  const s: FuzzStats = {
    parser: p.name,
    runs: 0,
    refused: 0,
    crashes: 0,
    hangs: 0,
    noPosition: 0,
    maxMs: 0,
    maxCpuMs: 0,
    findings: [],
  };
  const keep = (f: Finding): void => {
    if (s.findings.filter((x) => x.kind === f.kind).length < 5) s.findings.push(f);
  };
  const prop = fc.asyncProperty(p.arb, async (input) => {
    s.runs++;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let out: Outcome | null = null;
    try {
      out = await p.load(input);
    } catch (e) {
      s.crashes++;
      keep({
        kind: 'crash',
        detail: String((e as Error)?.stack ?? e)
          .split('\n')
          .slice(0, 4)
          .join(' | '),
        input,
      });
    }
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000;
    s.maxMs = Math.max(s.maxMs, ms);
    s.maxCpuMs = Math.max(s.maxCpuMs, cpuMs);
    if (cpuMs > HANG_MS) {
      s.hangs++;
      keep({ kind: 'hang', detail: `${cpuMs.toFixed(0)} ms of CPU (${ms.toFixed(0)} ms wall)`, input });
    }
    if (out && out.errors.length) {
      s.refused++;
      const bad = unplaced(out.errors);
      if (bad.length) {
        s.noPosition++;
        keep({ kind: 'no-position', detail: JSON.stringify(bad[0]), input });
      }
    }
    return true;
  });
  const opts =
    o.ms === undefined
      ? { seed: o.seed, numRuns: o.numRuns ?? 100 }
      : {
          seed: o.seed,
          numRuns: Number.MAX_SAFE_INTEGER,
          interruptAfterTimeLimit: o.ms,
          markInterruptAsFailure: false,
        };
  const close = p.close;
  try {
    await fc.assert(prop, opts);
  } finally {
    close();
  }
  return s;
};
