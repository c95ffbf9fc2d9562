// The hostile-lines corpus (docs/reliability.md, "Hostile log lines"): crafted log lines for the sshd, portsentry,
// nginx-http-auth, postfix and dovecot filters, each labelled with the one attacker address a filter may find in it
// (or none). Innocent addresses are injected where an attacker controls text (user names, URLs, referrers, reverse
// names, pipelined commands); other lines carry control characters, NUL, invalid UTF-8, 1 MiB fields, or input
// built to make a failregex backtrack. Seeded: generateCorpus() is the checked-in fixture, line for line.
export type Family = 'sshd' | 'portsentry' | 'nginx-http-auth' | 'postfix' | 'dovecot';
export const FAMILIES: readonly Family[] = ['sshd', 'portsentry', 'nginx-http-auth', 'postfix', 'dovecot'];

export type HostileEntry = {
  n: number; // 1-based; the line's timestamp is 2026-12-06 00:00:00 UTC + n seconds (unique: maps verdicts back)
  family: Family;
  kind: string;
  attacker: string | null; // the only address a filter may take from this line
  text: string; // the line as UTF-8 text (without newline), unless `hex`
  hex?: string; // the line's raw bytes (invalid UTF-8)
  fill?: { at: number; unit: string; count: number }; // text with unit.repeat(count) inserted at `at` (1 MiB lines)
};

export const CORPUS_SEED = 20261206;
export const MIB = 1024 * 1024;
const T0 = Date.UTC(2026, 11, 6) / 1000;

// mulberry32
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const p2 = (x: number): string => String(x).padStart(2, '0');
const clock = (n: number): { d: Date; hms: string } => {
  const d = new Date((T0 + n) * 1000);
  return { d, hms: `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}` };
};
const syslogDate = (n: number): string => `Dec  6 ${clock(n).hms}`;

// An attacker-controlled slot's content, with the address it must not lead to (`v`, innocent) and the attacker's.
type Slot = { text: string; kind: string; hex?: string };
type Template = { name: string; make: (a: string, slot: string, r: () => number) => string };

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const port = (r: () => number): number => 1024 + Math.floor(r() * 60000);

// Headers: what syslog/nginx writes before the attacker's text.
const header = (f: Family, n: number, r: () => number): string => {
  const pid = 1000 + Math.floor(r() * 30000);
  switch (f) {
    case 'sshd':
      return `${syslogDate(n)} gw sshd[${pid}]: `;
    case 'portsentry':
      return `${syslogDate(n)} gw portsentry[${pid}]: attackalert: `;
    case 'nginx-http-auth':
      return `2026/12/06 ${clock(n).hms} [error] ${pid}#${pid}: *${n} `;
    case 'postfix':
      return `${syslogDate(n)} mail postfix/smtpd[${pid}]: `;
    case 'dovecot':
      return `${syslogDate(n)} mail dovecot: `;
  }
};

// Message templates per family: `slot` is where the attacker's text goes (user name, URL, referrer, reverse name).
const TEMPLATES: Record<Family, Template[]> = {
  sshd: [
    {
      name: 'failed-invalid',
      make: (a, s, r) => `Failed password for invalid user ${s} from ${a} port ${port(r)} ssh2`,
    },
    { name: 'invalid-user', make: (a, s, r) => `Invalid user ${s} from ${a} port ${port(r)}` },
    {
      name: 'closed-auth',
      make: (a, s, r) => `Connection closed by authenticating user ${s} ${a} port ${port(r)} [preauth]`,
    },
    { name: 'disconnected', make: (a, s, r) => `Disconnected from invalid user ${s} ${a} port ${port(r)} [preauth]` },
    { name: 'auth-failure', make: (a, s) => `error: PAM: Authentication failure for ${s} from ${a}` },
    { name: 'not-allowed', make: (a, s) => `User ${s} from ${a} not allowed because not listed in AllowUsers` },
    {
      name: 'max-auth',
      make: (a, s, r) => `maximum authentication attempts exceeded for ${s} from ${a} port ${port(r)} ssh2 [preauth]`,
    },
    {
      name: 'pam-rhost',
      make: (a, s) =>
        `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${a} ` + ` user=${s}`,
    },
  ],
  portsentry: [
    { name: 'connect', make: (a, s, r) => `Connect from host: ${s}/${a} to TCP port: ${port(r)}` },
    { name: 'udp-scan', make: (a, s, r) => `UDP scan from host: ${s}/${a} to UDP port: ${port(r)}` },
    { name: 'syn-scan', make: (a, s, r) => `TCP SYN/Normal scan from host: ${s}/${a} to TCP port: ${port(r)}` },
  ],
  'nginx-http-auth': [
    {
      name: 'mismatch-user',
      make: (a, s) =>
        `user "${s}": password mismatch, client: ${a}, server: www.example, request: "GET /private HTTP/1.1",` +
        ` host: "www.example"`,
    },
    {
      name: 'notfound-user',
      make: (a, s) =>
        `user "${s}" was not found in "/etc/nginx/htpasswd", client: ${a}, server: www.example, request: "GET` +
        ` / HTTP/1.1", host: "www.example"`,
    },
    {
      name: 'referrer',
      make: (a, s) =>
        `user "bob": password mismatch, client: ${a}, server: www.example, request: "GET / HTTP/1.1", host:` +
        ` "www.example", referrer: "${s}"`,
    },
    {
      name: 'url',
      make: (a, s) =>
        `user "bob": password mismatch, client: ${a}, server: www.example, request: "GET /${s} HTTP/1.1",` +
        ` host: "www.example"`,
    },
  ],
  postfix: [
    {
      name: 'relay-helo',
      make: (a, s) =>
        `NOQUEUE: reject: RCPT from unknown[${a}]: 554 5.7.1 <x@example.org>: Relay access denied;` +
        ` from=<a@example.net> to=<x@example.org> proto=ESMTP helo=<${s}>`,
    },
    {
      name: 'relay-from',
      make: (a, s) =>
        `NOQUEUE: reject: RCPT from unknown[${a}]: 554 5.7.1 <x@example.org>: Relay access denied;` +
        ` from=<${s}> to=<x@example.org> proto=ESMTP helo=<h>`,
    },
    {
      name: 'unknown-user',
      make: (a, s) =>
        `NOQUEUE: reject: RCPT from mx.example.net[${a}]: 550 5.1.1 <${s}>: Recipient address rejected: User` +
        ` unknown in local recipient table; from=<a@example.net> to=<${s}> proto=ESMTP helo=<h>`,
    },
    { name: 'pipelining', make: (a, s) => `improper command pipelining after CONNECT from unknown[${a}]: ${s}` },
    { name: 'sasl', make: (a, s) => `warning: unknown[${a}]: SASL LOGIN authentication failed: ${s}` },
  ],
  dovecot: [
    {
      name: 'aborted-user',
      make: (a, s) =>
        `imap-login: Aborted login (auth failed, 1 attempts in 2 secs): user=<${s}>, method=PLAIN, rip=${a},` +
        ` lip=192.0.2.1, TLS, session=<Zx3k>`,
    },
    {
      name: 'disconnected-user',
      make: (a, s) =>
        `pop3-login: Disconnected (auth failed, 3 attempts in 12 secs): user=<${s}>, method=PLAIN, rip=${a},` +
        ` lip=192.0.2.1, session=<Qw9p>`,
    },
    {
      name: 'pam',
      make: (a, s) =>
        `auth-worker(4242): pam(${s},${a},<Ab12>): pam_authenticate() failed: Authentication failure` +
        ` (password mismatch?)`,
    },
    { name: 'passwd-file', make: (a, s) => `auth: passwd-file(${s},${a}): unknown user` },
  ],
};

// Innocent addresses (192.0.2.0/24, 2001:db8:bad::/48) are injected; attackers are 198.51.100/203.0.113 and
// 2001:db8:a::.
const innocent = (r: () => number): string =>
  r() < 0.8 ? `192.0.2.${10 + Math.floor(r() * 240)}` : `2001:db8:bad::${Math.floor(r() * 65535).toString(16)}`;
const attackerAddr = (r: () => number): string => {
  const x = r();
  if (x < 0.45) return `203.0.113.${1 + Math.floor(r() * 250)}`;
  if (x < 0.8) return `198.51.100.${1 + Math.floor(r() * 250)}`;
  return `2001:db8:a::${(1 + Math.floor(r() * 65534)).toString(16)}`;
};

// Texts an attacker puts in a slot to make a filter report `v`: the tails of every family's messages, so every
// template is tried with every family's phrasing.
const injections = (v: string, r: () => number): string[] => [
  `x from ${v} port ${port(r)}`,
  `x from ${v} port ${port(r)} ssh2`,
  `x ${v} port ${port(r)} [preauth]`,
  `x from ${v}`,
  `root from ${v} not allowed because not listed in AllowUsers`,
  `${v}`,
  `x rhost=${v}`,
  `${v} port 22`,
  `x", client: ${v}, server: s, request: "GET / HTTP/1.1", host: "h`,
  `x": password mismatch, client: ${v}, server: s, request: "GET / HTTP/1.1", host: "h`,
  `x" password mismatch, client: ${v}, server: s, request: "GET / HTTP/1.1", host: "h`,
  `x>, method=PLAIN, rip=${v}, lip=192.0.2.1, session=<x`,
  `x,${v}`,
  `x,${v}): unknown user`,
  `x>, rip=${v}, lip=192.0.2.1, session=<y`,
  `unknown[${v}]: 554 5.7.1 Relay access denied`,
  `[${v}]: SASL LOGIN authentication failed: x`,
  `evil/${v}`,
  `a/${v} to TCP port: 22`,
  `${v}/${v}`,
  `from unknown[${v}]: 554 5.7.1 <x@y>: Relay access denied`,
  `\tfrom ${v} port 22`,
];

// Reverse names an attacker's PTR record can hold (portsentry and sshd log them when they resolve).
const reverseNames = (v: string): string[] => [
  `${v}.evil.example`,
  `evil-${v.replace(/[.:]/g, '-')}.example`,
  `x.${v}`,
];

// Control characters, NUL, invalid UTF-8 around an injected address.
const fullwidth = (v: string): string => v.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)));
const controls = (v: string): Slot[] => [
  { kind: 'ansi', text: `\u001b[2K\u001b[1Gx from ${v} port 22` },
  { kind: 'cr', text: `x\rDec  6 00:00:00 gw sshd[1]: Invalid user y from ${v} port 22` },
  { kind: 'nul', text: `x\u0000 from ${v} port 22` },
  { kind: 'nul-only', text: '\u0000'.repeat(64) },
  { kind: 'del-bell', text: `\u007f\u0007\u0008x from ${v}` },
  { kind: 'vt-ff', text: `x\u000b\u000cfrom ${v} port 22` },
  { kind: 'c1', text: `x\u0085from ${v}\u2028port 22\u2029` },
  { kind: 'bidi', text: `x\u202efrom ${v}\u202c port 22` },
  { kind: 'zero-width', text: `x\u200bfrom\u200b${v}` },
  { kind: 'fullwidth-digits', text: `x from ${fullwidth(v)} port 22` },
  { kind: 'arabic-digits', text: `x from ${v.replace(/\d/g, (d) => String.fromCharCode(0x0660 + Number(d)))} port 22` },
];
const BAD_UTF8 = ['ff', 'fe', 'c328', 'c0af', 'eda080', 'f4908080', 'e282', 'f8888080af'];

// Inputs built to make regexes backtrack: runs of what the patterns repeat (spaces, separators, repeated keywords,
// digits and dots, colons), of about 8 KiB each (rsyslog's default maximum message size), then `tail`.
type Run = { unit: string; tail?: string; size?: number };
const backtrackers = (v: string): Run[] => [
  { unit: ' ' },
  { unit: ' ', tail: '!' },
  { unit: 'a' },
  { unit: ' from ' },
  { unit: `from ${v} ` },
  { unit: '1.' },
  { unit: '1:' },
  { unit: '::' },
  { unit: ': a' },
  { unit: ': x(y) z' },
  { unit: '[' },
  { unit: `[${v}]` },
  { unit: '"' },
  { unit: '", client: ' },
  { unit: '<' },
  { unit: '>, ' },
  { unit: '(x,' },
  { unit: `,${v}` },
  { unit: 'aa.' },
  { unit: 'a-' },
  { unit: '\t' },
  { unit: ' port 1' },
  { unit: 'x', size: 4000, tail: ` from ${v} port ${'9'.repeat(4000)}` },
  { unit: 'unknown[' },
  { unit: 'rip=' },
  { unit: '%' },
  { unit: '\\' },
  { unit: 'user ' },
  { unit: 'Failed password for ' },
  { unit: 'dovecot: ' },
  { unit: 'x', size: 8000, tail: ` from ${v}` },
  { unit: '9', size: 8000 },
];

const make = (e: Omit<HostileEntry, 'n'>, out: HostileEntry[]): void => {
  out.push({ n: out.length + 1, ...e });
};

export const generateCorpus = (seed = CORPUS_SEED): HostileEntry[] => {
  const r = rng(seed);
  const out: HostileEntry[] = [];
  for (const family of FAMILIES) {
    const ts = TEMPLATES[family];
    const line = (kind: string, slot: string, a: string, t = pick(r, ts)): void => {
      const n = out.length + 1;
      make({ family, kind: `${t.name}:${kind}`, attacker: a, text: header(family, n, r) + t.make(a, slot, r) }, out);
    };
    // A reverse name (an attacker's PTR record) where the daemon logs one: portsentry's "name/addr", postfix's
    // "name[addr]"; elsewhere in the address's place (sshd with UseDNS yes), then no address is the attacker's.
    const rdns = (t: Template, name: string): void => {
      if (family === 'portsentry') {
        line('rdns', name, attackerAddr(r), t);
        return;
      }
      const n = out.length + 1;
      const a = attackerAddr(r);
      let text = header(family, n, r) + t.make(family === 'postfix' ? a : name, 'root', r);
      if (family === 'postfix') text = text.replace(/(unknown|mx\.example\.net)\[/, `${name}[`);
      make({ family, kind: `${t.name}:rdns`, attacker: family === 'postfix' ? a : null, text }, out);
    };
    for (const t of ts) line('plain', pick(r, ['root', 'admin', 'bob', 'ubuntu', 'x@example.org']), attackerAddr(r), t);
    for (const s of injections(innocent(r), r)) {
      for (const t of ts) if (r() < 0.45) line('inject', s, attackerAddr(r), t);
    }
    for (const t of ts) for (const s of reverseNames(innocent(r))) rdns(t, s);
    if (family === 'portsentry') {
      for (const t of ts) {
        const v = innocent(r);
        for (const s of [v, `${v}/${v}`, `a/${v} to TCP port: 22`]) line('rdns', s, attackerAddr(r), t);
      }
    }
    for (const c of controls(innocent(r))) line(c.kind, c.text, attackerAddr(r));
    for (const b of BAD_UTF8) {
      const n = out.length + 1;
      const t = pick(r, ts);
      const a = attackerAddr(r);
      const v = innocent(r);
      const [pre, post] = (header(family, n, r) + t.make(a, '\u0001', r)).split('\u0001') as [string, string];
      const bytes = [Buffer.from(`${pre}x`), Buffer.from(b, 'hex'), Buffer.from(` from ${v} port 22${post}`)];
      const hex = Buffer.concat(bytes).toString('hex');
      make({ family, kind: `${t.name}:utf8-${b}`, attacker: a, text: '', hex }, out);
    }
    for (const b of backtrackers(innocent(r))) {
      const n = out.length + 1;
      const t = pick(r, ts);
      const a = attackerAddr(r);
      const text = header(family, n, r) + t.make(a, `\u0001${b.tail ?? ''}`, r);
      const at = text.indexOf('\u0001');
      const count = Math.floor((b.size ?? 8000) / b.unit.length);
      const fill = { at, unit: b.unit, count };
      const kind = `${t.name}:backtrack`;
      make({ family, kind, attacker: a, text: text.slice(0, at) + text.slice(at + 1), fill }, out);
    }
    // 1 MiB fields; the `cut` ones put an innocent address exactly where a reader that cuts lines at 1 MiB cuts.
    for (const t of ts.slice(0, 2)) {
      for (const cut of [false, true]) {
        const n = out.length + 1;
        const a = attackerAddr(r);
        const v = innocent(r);
        const [pre, post] = (header(family, n, r) + t.make(a, '\u0001', r)).split('\u0001') as [string, string];
        const tail = family === 'portsentry' ? `/${v} to TCP port: 22` : ` from ${v} port 22`;
        const fixed = Buffer.byteLength(`${pre}x${tail}`);
        const count = cut ? MIB - fixed : MIB;
        const kind = `${t.name}:${cut ? 'cut-at-1mib' : 'overlong'}`;
        const fill = { at: pre.length + 1, unit: 'a', count };
        make({ family, kind, attacker: a, text: `${pre}x${tail}${post}`, fill }, out);
      }
    }
  }
  return out;
};

// The bytes of a line (without its newline).
export const lineBytes = (e: HostileEntry): Buffer => {
  if (e.hex !== undefined) return Buffer.from(e.hex, 'hex');
  if (!e.fill) return Buffer.from(e.text, 'utf8');
  return Buffer.from(e.text.slice(0, e.fill.at) + e.fill.unit.repeat(e.fill.count) + e.text.slice(e.fill.at), 'utf8');
};

export const toJsonl = (es: readonly HostileEntry[]): string => es.map((e) => JSON.stringify(e)).join('\n') + '\n';
export const fromJsonl = (text: string): HostileEntry[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as HostileEntry);
