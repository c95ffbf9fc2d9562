// A generated log corpus varied the way production logs are, for the benches (issue 17): sshd (with the CRON,
// sudo and systemd lines of an auth.log), nginx access and error logs, postfix and dovecot. A pure function of
// (service, n, seed, date mode): the same arguments give the same text, byte for byte.
//
// What varies: connections are sessions (one pid, one address, one port, several lines over time) interleaved with
// each other and with noise; about 20% of the remote addresses are IPv6 (2001:db8::/32, in varied RFC 5952 forms),
// the IPv4 ones come from 10.0.0.0/8, 172.16.0.0/12, 100.64.0.0/10 and the documentation ranges; tens of
// thousands of distinct addresses (a few hammer, most are seen a few times), thousands of user names, pids that
// grow and wrap, random source ports, a few dozen host names. These are text in a file: nothing is sent.
//
// Date modes: `native` (each service's own: BSD syslog for sshd/postfix/dovecot, `2026/12/06 01:02:03` for the
// nginx error log, `[06/Dec/2026:01:02:03 +0000]` inside the nginx access line), `bsd` (`Dec  6 01:02:03`), `iso`
// (`2026-12-06T01:02:03.123456+00:00`, rsyslog's RFC 3339 template) and `alternating` (BSD and ISO line by line,
// as a log aggregated from hosts with different templates). For nginx, `bsd`/`iso`/`alternating` put the stamp at
// the start of the line (the error log's own stamp is replaced; the access line keeps its bracketed date).
// Times grow from 2026-12-06 00:00:00 UTC over `SPAN_S` seconds.

import ipaddr from 'ipaddr.js';

export type Service = 'sshd' | 'nginx-access' | 'nginx-error' | 'postfix' | 'dovecot';
export type DateMode = 'native' | 'bsd' | 'iso' | 'alternating';
export const SERVICES: readonly Service[] = ['sshd', 'nginx-access', 'nginx-error', 'postfix', 'dovecot'];
export const DATE_MODES: readonly DateMode[] = ['native', 'bsd', 'iso', 'alternating'];

const START_MS = Date.UTC(2026, 11, 6);
const SPAN_S = 86_400;

// mulberry32: small, fast, seeded.
type Rng = () => number;
const mulberry32 = (seed: number): Rng => {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

class Pick {
  readonly #r: Rng;
  constructor(r: Rng) {
    this.#r = r;
  }
  get r(): Rng {
    return this.#r;
  }
  /** 0 <= n < max */
  int(max: number): number {
    return Math.floor(this.#r() * max);
  }
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  one<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.#r() < p;
  }
  /** A skewed index in [0, n): a few indexes come up often, most rarely (as attackers do). */
  skewed(n: number): number {
    const x = this.#r();
    return Math.floor(x * x * x * n);
  }
  b64(len: number): string {
    const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    let s = '';
    for (let i = 0; i < len; i++) s += A[this.int(64)];
    return s;
  }
  hex(len: number): string {
    let s = '';
    for (let i = 0; i < len; i++) s += '0123456789ABCDEF'[this.int(16)];
    return s;
  }
}

// ---------------------------------------------------------------- addresses, names, hosts

const v4 = (p: Pick): string => {
  const k = p.int(100);
  const o = (): number => p.int(256);
  if (k < 35) return `10.${o()}.${o()}.${p.between(1, 254)}`;
  if (k < 55) return `172.${p.between(16, 31)}.${o()}.${p.between(1, 254)}`;
  if (k < 75) return `100.${p.between(64, 127)}.${o()}.${p.between(1, 254)}`;
  if (k < 84) return `192.0.2.${p.between(1, 254)}`;
  if (k < 92) return `198.51.100.${p.between(1, 254)}`;
  return `203.0.113.${p.between(1, 254)}`;
};

// 2001:db8::/32 in the shapes seen in logs (a short interface id, SLAAC-like, privacy-like), in RFC 5952 form as
// sshd, postfix, dovecot and nginx print them (inet_ntop).
const v6 = (p: Pick): string => {
  const g = (): number => p.int(0x10000);
  const k = p.int(10);
  const w = [0x2001, 0xdb8, g(), g(), 0, 0, 0, 0];
  if (k < 4) w[7] = p.between(1, 0xfff);
  else if (k < 7) w.splice(4, 4, g(), (p.int(256) << 8) | 0xff, 0xfe00 | p.int(256), g());
  else if (k < 9) w.splice(4, 4, g(), g(), g(), g());
  else w.splice(2, 6, 0, 0, 0, 0, 0, g());
  return (ipaddr.fromByteArray(w.flatMap((x) => [x >> 8, x & 255])) as ipaddr.IPv6).toRFC5952String();
};

class Pools {
  readonly attackers: string[] = [];
  readonly users: string[] = [];
  readonly locals: string[] = [];
  readonly hosts: string[] = [];
  constructor(p: Pick, attackers: number) {
    const seen = new Set<string>();
    while (this.attackers.length < attackers) {
      const a = p.chance(0.2) ? v6(p) : v4(p);
      if (seen.has(a)) continue;
      seen.add(a);
      this.attackers.push(a);
    }
    const common = ['root', 'admin', 'test', 'user', 'ubuntu', 'oracle', 'postgres', 'git', 'ftpuser', 'guest'];
    const more = ['pi', 'debian', 'centos', 'support', 'deploy', 'jenkins', 'hadoop', 'mysql', 'www-data', 'nagios'];
    const syl = ['an', 'bo', 'ca', 'de', 'el', 'fi', 'ga', 'ho', 'ir', 'jo', 'ka', 'li', 'mo', 'ne', 'or', 'pa'];
    const names = new Set<string>([...common, ...more]);
    while (names.size < 3000) {
      let n = p.one(syl) + p.one(syl);
      if (p.chance(0.5)) n += p.one(syl);
      if (p.chance(0.3)) n += String(p.int(100));
      if (p.chance(0.05)) n = n.toUpperCase();
      if (p.chance(0.05)) n += `.${p.one(syl)}`;
      names.add(n);
    }
    this.users = [...names];
    for (let i = 0; i < 60; i++) this.locals.push(p.chance(0.2) ? `2001:db8:1::${(i + 16).toString(16)}` : v4(p));
    const h = ['web', 'mail', 'db', 'bastion', 'app', 'edge', 'mx', 'vpn'];
    for (let i = 0; i < 24; i++)
      this.hosts.push(p.chance(0.5) ? `${p.one(h)}${String(i).padStart(2, '0')}` : `${p.one(h)}-${i}.example.net`);
  }
  attacker(p: Pick): string {
    return this.attackers[p.skewed(this.attackers.length)] as string;
  }
  user(p: Pick): string {
    return p.chance(0.3) ? (this.users[p.int(20)] as string) : (this.users[p.skewed(this.users.length)] as string);
  }
}

// ---------------------------------------------------------------- dates

const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const parts = (ms: number): { d: Date; hms: string } => {
  const d = new Date(ms);
  return { d, hms: `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}` };
};
const bsd = (ms: number): string => {
  const { d, hms } = parts(ms);
  const day = d.getUTCDate();
  return `${MON[d.getUTCMonth()]} ${day < 10 ? ` ${day}` : day} ${hms}`;
};
const iso = (ms: number, us: number): string => {
  const { d, hms } = parts(ms);
  const date = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
  return `${date}T${hms}.${String(us).padStart(6, '0')}+00:00`;
};
const nginxErr = (ms: number): string => {
  const { d, hms } = parts(ms);
  return `${d.getUTCFullYear()}/${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())} ${hms}`;
};
const nginxAcc = (ms: number): string => {
  const { d, hms } = parts(ms);
  return `${p2(d.getUTCDate())}/${MON[d.getUTCMonth()]}/${d.getUTCFullYear()}:${hms} +0000`;
};

// ---------------------------------------------------------------- sessions

// A session emits its lines one at a time (each call the next), with the time of the call.
type Emit = (ms: number) => string;
type Session = { lines: Emit[] };

class Ctx {
  readonly p: Pick;
  readonly pools: Pools;
  readonly host: string;
  #pid: number;
  constructor(p: Pick, pools: Pools) {
    this.p = p;
    this.pools = pools;
    this.host = p.one(pools.hosts);
    this.#pid = p.between(800, 40_000);
  }
  pid(): number {
    this.#pid += this.p.between(1, 60);
    if (this.#pid > 4_194_304) this.#pid = 300 + this.p.int(1000);
    return this.#pid;
  }
  port(): number {
    return this.p.between(1024, 65535);
  }
}

// --- sshd (plus the rest of an auth.log)

const sshdSession = (c: Ctx): Session => {
  const { p, pools } = c;
  const pid = c.pid();
  const t =
    (msg: string): Emit =>
    (): string =>
      `sshd[${pid}]: ${msg}`;
  const a = pools.attacker(p);
  const port = c.port();
  const k = p.int(100);
  const L: Emit[] = [];
  const closing = (who: string): string =>
    p.one([
      `Connection closed by ${who}${a} port ${port} [preauth]`,
      `Disconnected from ${who}${a} port ${port} [preauth]`,
      `Received disconnect from ${a} port ${port}:11: Bye Bye [preauth]`,
      `Connection reset by ${who}${a} port ${port} [preauth]`,
    ]);
  if (k < 30) {
    // invalid user, password guessing
    const u = pools.user(p);
    L.push(t(`Invalid user ${u} from ${a} port ${port}`));
    const tries = p.between(1, 3);
    for (let i = 0; i < tries; i++) {
      if (i === 0) L.push(t('pam_unix(sshd:auth): check pass; user unknown'));
      if (i === 0)
        L.push(t(`pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${a}`));
      L.push(t(`Failed password for invalid user ${u} from ${a} port ${port} ssh2`));
    }
    if (p.chance(0.5)) L.push(t(`Received disconnect from ${a} port ${port}:11: Bye Bye [preauth]`));
    L.push(t(closing(`invalid user ${u} `)));
  } else if (k < 48) {
    // an existing user (root mostly), password guessing up to the limit
    const u = p.chance(0.7) ? 'root' : pools.user(p);
    L.push(
      t(`pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${a}  user=${u}`),
    );
    const tries = p.between(1, 6);
    for (let i = 0; i < tries; i++) L.push(t(`Failed password for ${u} from ${a} port ${port} ssh2`));
    if (tries === 6) {
      L.push(t(`error: maximum authentication attempts exceeded for ${u} from ${a} port ${port} ssh2 [preauth]`));
      L.push(t(`Disconnecting authenticating user ${u} ${a} port ${port}: Too many authentication failures [preauth]`));
      L.push(t(`PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=${a}  user=${u}`));
    } else L.push(t(closing(`authenticating user ${u} `)));
  } else if (k < 56) {
    // key probing
    const u = pools.user(p);
    const alg = p.one(['RSA', 'ED25519', 'ECDSA']);
    L.push(t(`Failed publickey for ${u} from ${a} port ${port} ssh2: ${alg} SHA256:${p.b64(43)}`));
    L.push(t(closing(`authenticating user ${u} `)));
  } else if (k < 78) {
    // scanners and broken clients
    const v = p.int(7);
    if (v === 0) L.push(t(`Connection closed by ${a} port ${port} [preauth]`));
    else if (v === 1) L.push(t(`banner exchange: Connection from ${a} port ${port}: invalid format`));
    else if (v === 2) {
      L.push(t('error: kex_exchange_identification: Connection closed by remote host'));
      L.push(t(`Connection closed by ${a} port ${port}`));
    } else if (v === 3) {
      L.push(t('error: kex_exchange_identification: read: Connection reset by peer'));
      L.push(t(`Connection reset by ${a} port ${port}`));
    } else if (v === 4)
      L.push(
        t(
          `Unable to negotiate with ${a} port ${port}: no matching key exchange method found. ` +
            'Their offer: diffie-hellman-group14-sha1,diffie-hellman-group1-sha1 [preauth]',
        ),
      );
    else if (v === 5) L.push(t(`Did not receive identification string from ${a} port ${port}`));
    else L.push(t(`Timeout before authentication for ${a} port ${port}`));
  } else {
    // a legitimate login, from a known address
    const u = p.one(['alice', 'bob', 'carol', 'deploy', 'backup', 'ansible']);
    const la = p.one(pools.locals);
    const sid = c.p.between(1, 9999);
    const method = p.chance(0.8) ? 'publickey' : 'password';
    const suf = method === 'publickey' ? `: ED25519 SHA256:${p.b64(43)}` : '';
    L.push(t(`Accepted ${method} for ${u} from ${la} port ${port} ssh2${suf}`));
    L.push(t(`pam_unix(sshd:session): session opened for user ${u}(uid=${1000 + u.length}) by (uid=0)`));
    L.push(() => `systemd-logind[512]: New session ${sid} of user ${u}.`);
    L.push(() => `systemd[1]: Started Session ${sid} of User ${u}.`);
    L.push(t(`Received disconnect from ${la} port ${port}:11: disconnected by user`));
    L.push(t(`Disconnected from user ${u} ${la} port ${port}`));
    L.push(t(`pam_unix(sshd:session): session closed for user ${u}`));
    L.push(() => `systemd-logind[512]: Session ${sid} logged out. Waiting for processes to exit.`);
  }
  return { lines: L };
};

const authNoise = (c: Ctx): string => {
  const { p } = c;
  const k = p.int(10);
  if (k < 5) {
    const pid = c.pid();
    return p.chance(0.5)
      ? `CRON[${pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`
      : `CRON[${pid}]: pam_unix(cron:session): session closed for user root`;
  }
  if (k < 7) {
    const u = p.one(['alice', 'bob', 'deploy']);
    const cmd = p.one(['/usr/bin/systemctl status nginx', '/usr/bin/apt update', '/usr/bin/journalctl -u sshd']);
    return p.chance(0.5)
      ? `sudo:    ${u} : TTY=pts/${p.int(4)} ; PWD=/home/${u} ; USER=root ; COMMAND=${cmd}`
      : `sudo: pam_unix(sudo:session): session opened for user root(uid=0) by ${u}(uid=1000)`;
  }
  if (k < 8) return `systemd[1]: Starting ${p.one(['Cleanup of Temporary Directories', 'Daily apt download'])}...`;
  if (k < 9) return `systemd-logind[512]: Removed session ${p.between(1, 9999)}.`;
  const up = `${p.between(1, 999999)}.${String(p.int(1e6)).padStart(6, '0')}`;
  return (
    `kernel: [${up}] [UFW BLOCK] IN=eth0 OUT= MAC= SRC=${c.pools.attacker(p)} DST=192.0.2.1 LEN=44 PROTO=TCP ` +
    `SPT=${c.port()} DPT=${p.one([23, 3389, 5900, 8080])}`
  );
};

// --- postfix

const postfixSession = (c: Ctx): Session => {
  const { p, pools } = c;
  const pid = c.pid();
  const a = pools.attacker(p);
  const name = p.chance(0.7) ? 'unknown' : `${p.one(['mail', 'mx', 'smtp', 'host'])}${p.int(99)}.example.org`;
  const who = `${name}[${a}]`;
  const s =
    (msg: string): Emit =>
    (): string =>
      `postfix/smtpd[${pid}]: ${msg}`;
  const rcpt = `${pools.user(p)}@example.net`;
  const from = `${pools.user(p)}@example.com`;
  const helo = p.chance(0.5) ? name : `[${a}]`;
  const tail = `from=<${from}> to=<${rcpt}> proto=ESMTP helo=<${helo}>`;
  const L: Emit[] = [s(`connect from ${who}`)];
  const k = p.int(100);
  if (k < 35) {
    const why = p.one([
      `554 5.7.1 <${rcpt}>: Relay access denied`,
      `450 4.7.1 Client host rejected: cannot find your hostname, [${a}]`,
      `550 5.1.1 <${rcpt}>: Recipient address rejected: User unknown in virtual mailbox table`,
      `554 5.7.1 Service unavailable; Client host [${a}] blocked using zen.spamhaus.org`,
      `450 4.7.1 <${helo}>: Helo command rejected: Host not found`,
      `504 5.5.2 <${p.one(['localhost', 'User'])}>: Helo command rejected: need fully-qualified hostname`,
    ]);
    L.push(s(`NOQUEUE: reject: RCPT from ${who}: ${why}; ${tail}`));
    L.push(
      s(
        p.chance(0.5)
          ? `lost connection after RCPT from ${who}`
          : `disconnect from ${who} ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4`,
      ),
    );
  } else if (k < 60) {
    const mech = p.one(['LOGIN', 'PLAIN', 'login']);
    const n = p.between(1, 3);
    for (let i = 0; i < n; i++)
      L.push(
        s(
          `warning: ${who}: SASL ${mech} authentication failed: ` +
            (p.chance(0.7) ? 'UGFzc3dvcmQ6' : 'authentication failure'),
        ),
      );
    L.push(s(`lost connection after AUTH from ${who}`));
    L.push(s(`disconnect from ${who} ehlo=1 auth=0/${n} commands=1/${n + 1}`));
  } else if (k < 75) {
    if (p.chance(0.3)) L.push(s(`improper command pipelining after CONNECT from ${who}: QUIT`));
    if (p.chance(0.3))
      L.push(s(`warning: hostname ${name} does not resolve to address ${a}: Name or service not known`));
    L.push(s(`lost connection after ${p.one(['CONNECT', 'EHLO', 'STARTTLS'])} from ${who}`));
    L.push(s(`disconnect from ${who} ${p.chance(0.5) ? 'commands=0/0' : 'ehlo=1 starttls=0/1 commands=1/2'}`));
  } else {
    // a delivered message (the queue manager's and the delivery agent's lines belong to it)
    const id = p.hex(10);
    const la = p.one(pools.locals);
    const q = `${p.one(['mail', 'mx'])}.example.org[${la}]`;
    L[0] = s(`connect from ${q}`);
    L.push(s(`${id}: client=${q}`));
    L.push(() => `postfix/cleanup[${pid + 3}]: ${id}: message-id=<${p.hex(16).toLowerCase()}@example.org>`);
    L.push(() => `postfix/qmgr[1187]: ${id}: from=<${from}>, size=${p.between(900, 90000)}, nrcpt=1 (queue active)`);
    L.push(
      () =>
        `postfix/local[${pid + 5}]: ${id}: to=<${rcpt}>, relay=local, delay=${p.int(9)}.${p.int(99)}, ` +
        `delays=0.1/0/0/0.2, dsn=2.0.0, status=sent (delivered to mailbox)`,
    );
    L.push(() => `postfix/qmgr[1187]: ${id}: removed`);
    L.push(s(`disconnect from ${q} ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7`));
  }
  return { lines: L };
};

const postfixNoise = (c: Ctx): string => {
  const { p } = c;
  return p.chance(0.5)
    ? `postfix/anvil[${c.pid()}]: statistics: max connection rate 1/60s ` +
        `for (smtp:${c.pools.attacker(p)}) at ${bsd(START_MS)}`
    : `postfix/scache[${c.pid()}]: statistics: domain lookup hits=0 miss=${p.int(9)} success=0%`;
};

// --- dovecot

const dovecotSession = (c: Ctx): Session => {
  const { p, pools } = c;
  const d = p.chance(0.5) ? 'dovecot' : `dovecot[${c.pid()}]`;
  const a = pools.attacker(p);
  const svc = p.one(['imap', 'pop3', 'submission', 'managesieve']);
  const sess = p.b64(16);
  const lip = p.one(['192.0.2.25', '2001:db8:25::1']);
  const L: Emit[] = [];
  const k = p.int(100);
  const u = pools.user(p);
  const e =
    (msg: string): Emit =>
    (): string =>
      `${d}: ${msg}`;
  if (k < 40) {
    const w = c.pid();
    L.push(
      e(
        'auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ' +
          `ruser=${u} rhost=${a}${p.chance(0.5) ? `  user=${u}` : ''}`,
      ),
    );
    L.push(
      e(
        `auth-worker(${w}): pam(${u},${a},<${sess}>): ` +
          'pam_authenticate() failed: Authentication failure (password mismatch?)',
      ),
    );
    const n = p.between(1, 3);
    L.push(
      e(
        `${svc}-login: Disconnected (auth failed, ${n} attempts in ${p.between(2, 30)} secs): user=<${u}>, ` +
          `method=${p.one(['PLAIN', 'LOGIN'])}, rip=${a}, lip=${lip}, TLS, session=<${sess}>`,
      ),
    );
  } else if (k < 60) {
    L.push(e(`auth-worker(${c.pid()}): pam(${u},${a},<${sess}>): unknown user`));
    L.push(
      e(
        `${svc}-login: Aborted login (auth failed, 1 attempts in 4 secs): user=<${u}>, method=PLAIN, ` +
          `rip=${a}, lip=${lip}, session=<${sess}>`,
      ),
    );
  } else if (k < 80) {
    L.push(
      e(
        `${svc}-login: Disconnected (no auth attempts in ${p.int(20)} secs): user=<>, rip=${a}, lip=${lip}, ` +
          `TLS handshaking: Connection closed, session=<${sess}>`,
      ),
    );
  } else {
    const who = p.one(['alice', 'bob', 'carol']);
    const la = p.one(pools.locals);
    const mpid = c.pid();
    L.push(
      e(
        `${svc}-login: Login: user=<${who}>, method=PLAIN, rip=${la}, lip=${lip}, mpid=${mpid}, TLS, session=<${sess}>`,
      ),
    );
    L.push(
      e(
        `${svc}(${who})<${mpid}><${sess}>: Logged out in=${p.int(9999)} out=${p.int(99999)} deleted=0 ` +
          'expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0',
      ),
    );
  }
  return { lines: L };
};

// --- nginx

const REQ = ['/', '/index.html', '/wp-login.php', '/admin/', '/.env', '/api/v1/items', '/favicon.ico', '/login'];
const UA = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'curl/8.5.0',
  'Mozilla/5.0 zgrab/0.x',
  'python-requests/2.31.0',
];

class Nginx {
  #conn = 1;
  readonly workers: number[];
  constructor(c: Ctx) {
    this.workers = [c.pid(), c.pid(), c.pid(), c.pid()];
  }
  conn(c: Ctx): number {
    this.#conn += c.p.between(1, 40);
    return this.#conn;
  }
}

const nginxErrorLine = (c: Ctx, n: Nginx): string => {
  const { p, pools } = c;
  const w = p.one(n.workers);
  const a = p.chance(0.9) ? pools.attacker(p) : p.one(pools.locals);
  const srv = `${c.host}`;
  const path = p.one(REQ);
  const method = p.one(['GET', 'POST', 'HEAD']);
  const req = `request: "${method} ${path} HTTP/${p.one(['1.1', '1.0', '2.0'])}", host: "${srv}"`;
  const ref = p.chance(0.3) ? `, referrer: "https://${srv}${p.one(REQ)}"` : '';
  const head = (lvl: string): string => `[${lvl}] ${w}#${w}: *${n.conn(c)} `;
  const k = p.int(100);
  const u = pools.user(p);
  const cs = `client: ${a}, server: ${srv}`;
  const e = head('error');
  if (k < 25) return `${e}user "${u}" was not found in "/etc/nginx/.htpasswd", ${cs}, ${req}${ref}`;
  if (k < 45) return `${e}user "${u}": password mismatch, ${cs}, ${req}${ref}`;
  if (k < 55) return `${e}no user/password was provided for basic authentication, ${cs}, ${req}`;
  if (k < 75) return `${e}open() "/usr/share/nginx/html${path}" failed (2: No such file or directory), ${cs}, ${req}`;
  if (k < 82)
    return (
      `${e}connect() failed (111: Connection refused) while connecting to upstream, ${cs}, ${req}, ` +
      `upstream: "http://127.0.0.1:8080${path}"`
    );
  if (k < 88)
    return (
      `${head('crit')}SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) ` +
      `while SSL handshaking, client: ${a}, server: 0.0.0.0:443`
    );
  if (k < 93) return `${e}limiting requests, excess: ${p.int(20)}.${p.int(1000)} by zone "one", ${cs}, ${req}`;
  if (k < 97)
    return (
      `${head('warn')}a client request body is buffered to a temporary file ` +
      `/var/cache/nginx/client_temp/${String(p.int(1e9)).padStart(10, '0')}, ${cs}, ${req}`
    );
  return `${head('info')}client ${a} closed keepalive connection`;
};

const nginxAccessLine = (c: Ctx, ms: number): string => {
  const { p, pools } = c;
  const a = p.chance(0.7) ? pools.attacker(p) : p.one(pools.locals);
  const k = p.int(100);
  const user = k < 8 ? pools.user(p) : '-';
  const status = k < 8 ? 401 : p.one([200, 200, 200, 304, 404, 404, 301, 403, 500]);
  const req =
    k >= 97
      ? '\\x16\\x03\\x01\\x00\\xF1\\x01\\x00\\x00'
      : `${p.one(['GET', 'POST', 'HEAD'])} ${p.one(REQ)}${p.chance(0.2) ? `?id=${p.int(99999)}` : ''} HTTP/1.1`;
  const st = k >= 97 ? 400 : status;
  const referrer = p.chance(0.3) ? `https://${c.host}/` : '-';
  return `${a} - ${user} [${nginxAcc(ms)}] "${req}" ${st} ${p.int(60000)} "${referrer}" "${p.one(UA)}"`;
};

// ---------------------------------------------------------------- the corpus

type Source = { session?: (c: Ctx) => Session; noise: (c: Ctx, ms: number) => string; noiseShare: number };

const stampLine = (
  service: Service,
  mode: DateMode,
  i: number,
  ms: number,
  us: number,
  host: string,
  body: string,
): string => {
  const m = mode === 'alternating' ? (i % 2 === 0 ? 'bsd' : 'iso') : mode;
  const nginx = service === 'nginx-error' || service === 'nginx-access';
  if (m === 'native') {
    if (service === 'nginx-error') return `${nginxErr(ms)} ${body}`;
    if (service === 'nginx-access') return body;
    return `${bsd(ms)} ${host} ${body}`;
  }
  const st = m === 'bsd' ? bsd(ms) : iso(ms, us);
  return nginx ? `${st} ${body}` : `${st} ${host} ${body}`;
};

/**
 * The lines of a generated log (without newlines), a pure function of its arguments. Remote addresses come from
 * a pool of 60,000 (1,000,000 sshd lines show about 35,000 distinct ones after `from`, 20% of them IPv6).
 */
export function* corpusLines(service: Service, n: number, seed = 1, mode: DateMode = 'native'): Generator<string> {
  const p = new Pick(mulberry32(seed ^ 0x5eed));
  const pools = new Pools(p, 60_000);
  const c = new Ctx(p, pools);
  const ngx = new Nginx(c);
  const src: Source =
    service === 'sshd'
      ? { session: sshdSession, noise: authNoise, noiseShare: 0.3 }
      : service === 'postfix'
        ? { session: postfixSession, noise: postfixNoise, noiseShare: 0.05 }
        : service === 'dovecot'
          ? {
              session: dovecotSession,
              noise: (cc) => `dovecot: master: Warning: service(imap-login): process_limit (${cc.p.int(1000)}) reached`,
              noiseShare: 0.01,
            }
          : service === 'nginx-error'
            ? { noise: (cc) => nginxErrorLine(cc, ngx), noiseShare: 1 }
            : { noise: nginxAccessLine, noiseShare: 1 };
  const open: Array<{ s: Session; at: number }> = [];
  const width = p.between(8, 48); // sessions in flight
  const aggregated = p.chance(0.5); // one host, or an aggregated log from several
  for (let i = 0; i < n; i++) {
    const ms = START_MS + Math.floor((i * SPAN_S * 1000) / Math.max(n, 1));
    const us = p.int(1_000_000);
    const host = aggregated && p.chance(0.3) ? p.one(pools.hosts) : c.host;
    let body: string;
    if (src.session === undefined || p.chance(src.noiseShare)) body = src.noise(c, ms);
    else {
      while (open.length < width) open.push({ s: src.session(c), at: 0 });
      const k = p.int(open.length);
      const o = open[k] as { s: Session; at: number };
      body = (o.s.lines[o.at] as Emit)(ms);
      o.at++;
      if (o.at >= o.s.lines.length) open.splice(k, 1);
    }
    yield stampLine(service, mode, i, ms, us, host, body);
  }
}

/** The whole log as one string, each line ended by a newline. */
export const generateCorpus = (service: Service, n: number, seed = 1, mode: DateMode = 'native'): string => {
  const out: string[] = [];
  for (const l of corpusLines(service, n, seed, mode)) out.push(l);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
};
