// The control-socket case: what reaches sentryban's control socket from a client that should not be there or
// does not behave, against the real daemon: another uid (the socket mode, then SO_PEERCRED with the socket opened
// to everyone), garbage, half a message, a client that connects and never sends, many clients at once. The
// daemon must answer or close each one, stay alive, and give back every fd. Shared by bench/soak/control-socket.ts
// and test/reliability/control-socket.real.test.ts.
import { execa } from 'execa';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export type Outcome =
  | { kind: 'reply'; reply: { ok: boolean; error?: string; result?: unknown } }
  | { kind: 'closed' }
  | { kind: 'error'; code: string }
  | { kind: 'hung' };

export const fdsOf = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

// One connection: send `send` (nothing if null), optionally end our side, and wait for the first reply line or
// the close, at most `timeoutMs`. `ms` is how long that took.
export const talk = (
  path: string,
  send: string | Buffer | null,
  opts: { end?: boolean; timeoutMs?: number } = {},
): Promise<Outcome & { ms: number }> =>
  new Promise((resolve) => {
    const t0 = Date.now();
    const s: Socket = connect(path);
    let buf = '';
    let settled = false;
    const done = (o: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ ...o, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => done({ kind: 'hung' }), opts.timeoutMs ?? 30_000);
    s.on('connect', () => {
      if (send !== null) s.write(send);
      if (opts.end) s.end();
    });
    s.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let reply: { ok: boolean; error?: string };
      try {
        reply = JSON.parse(buf.slice(0, nl)) as typeof reply;
      } catch {
        done({ kind: 'error', code: 'bad reply' });
        return;
      }
      done({ kind: 'reply', reply });
    });
    s.on('error', (e: NodeJS.ErrnoException) => done({ kind: 'error', code: e.code ?? e.message }));
    s.on('close', () => done({ kind: 'closed' }));
  });

// The same, from another process run as `nobody` (uid 65534, no groups): its outcome as JSON.
const AS_NOBODY = `
import { connect } from 'node:net';
const [path, line] = process.argv.slice(2);
const s = connect(path);
let buf = '';
const done = (o) => { console.log(JSON.stringify(o)); process.exit(0); };
setTimeout(() => done({ kind: 'hung' }), 20000);
s.on('connect', () => s.write(line + '\\n'));
s.on('data', (c) => {
  buf += c;
  const nl = buf.indexOf('\\n');
  if (nl >= 0) done({ kind: 'reply', reply: JSON.parse(buf.slice(0, nl)) });
});
s.on('error', (e) => done({ kind: 'error', code: e.code }));
s.on('close', () => done({ kind: 'closed' }));
`;
export const talkAsNobody = async (path: string, line: string): Promise<Outcome> => {
  const dir = mkdtempSync(join(tmpdir(), 'ctl-nobody-'));
  try {
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'client.mjs'), AS_NOBODY, { mode: 0o644 });
    const r = await execa(
      'setpriv',
      [
        '--reuid',
        'nobody',
        '--regid',
        'nogroup',
        '--clear-groups',
        process.execPath,
        join(dir, 'client.mjs'),
        path,
        line,
      ],
      { reject: false, timeout: 30_000 },
    );
    try {
      return JSON.parse(String(r.stdout)) as Outcome;
    } catch {
      /* below */
    }
    return { kind: 'error', code: `client: ${String(r.stderr)}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

export type OtherUid = { atFileMode: Outcome; atPeerCheck: Outcome };
// A ban request from nobody: first as installed (socket 0600 in a 0700 folder), then with the socket and its
// folders above it opened to everyone (as a misconfigured system might), so that only SO_PEERCRED stands in the way.
export const otherUid = async (path: string, request: string): Promise<OtherUid> => {
  const atFileMode = await talkAsNobody(path, request);
  const opened: [string, number][] = [];
  try {
    for (let d = dirname(path); d !== '/'; d = dirname(d)) {
      const m = statSync(d).mode & 0o7777;
      if ((m & 0o001) === 0) {
        opened.push([d, m]);
        chmodSync(d, m | 0o011);
      }
    }
    chmodSync(path, 0o666);
    return { atFileMode, atPeerCheck: await talkAsNobody(path, request) };
  } finally {
    chmodSync(path, 0o600);
    for (const [d, m] of opened) chmodSync(d, m);
  }
};

export type Crowd = {
  clients: number;
  served: number;
  busy: number;
  refusedByKernel: number;
  other: string[];
  hung: number;
  ms: number;
};
// `n` clients connect at once, each sends a status request and waits for its reply (or its refusal).
export const crowd = async (path: string, n: number, line: string): Promise<Crowd> => {
  const t0 = Date.now();
  const all = await Promise.all(Array.from({ length: n }, () => talk(path, `${line}\n`, { timeoutMs: 60_000 })));
  const c: Crowd = { clients: n, served: 0, busy: 0, refusedByKernel: 0, other: [], hung: 0, ms: Date.now() - t0 };
  for (const o of all) {
    if (o.kind === 'reply' && o.reply.ok) c.served++;
    else if (o.kind === 'reply' && /^busy/.test(o.reply.error ?? '')) c.busy++;
    else if (o.kind === 'error' && o.code === 'EAGAIN') c.refusedByKernel++;
    else if (o.kind === 'hung') c.hung++;
    else c.other.push(JSON.stringify(o));
  }
  return c;
};

export const STATUS = '{"version":1,"verb":"status"}';

// Every kind of bad input: each outcome, and how long the client waited for it.
export const badInputs = async (path: string) => {
  const [idle, half, halfEnded, garbage, binary, huge, lines] = await Promise.all([
    talk(path, null), // connects, never sends
    talk(path, '{"version":1,"verb":"sta'), // half a message, then silence
    talk(path, '{"version":1,"verb":"sta', { end: true }), // half a message, then end
    talk(path, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'), // garbage lines
    talk(path, Buffer.from([0, 255, 254, 10, 0xc3, 0x28, 10])), // bytes that are not UTF-8
    talk(path, Buffer.alloc(2 << 20, 0x61)), // 2 MiB without a newline
    talk(path, `${'\n'.repeat(10_000)}${STATUS}\n`), // 10,000 empty lines before a request
  ]);
  return { idle, half, halfEnded, garbage, binary, huge, lines };
};

// A client that sends `n` requests and never reads a reply; resolves with its socket once all are written out of
// our process (the daemon is then the one holding them). The caller destroys it.
export const deafClient = (path: string, n: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = connect(path);
    s.on('error', reject);
    s.on('connect', () => {
      s.pause();
      s.write(`${STATUS}\n`.repeat(n), () => resolve(s));
    });
  });

// Runs a sentryban command line against the daemon's config folder (for the store's view of the refused ban).
export const sentryban = (bin: string, dir: string, args: string[]) =>
  execa(process.execPath, [bin, ...args, '--config', dir], { reject: false, timeout: 20_000 });

export type Daemon = {
  pid: number;
  dir: string;
  sock: string;
  bin: string;
  alive(): boolean;
  stop(): Promise<number | undefined>;
  output(): string;
};
// A real `sentryban daemon --foreground` on a fresh config folder (one jail on app.log, a hosts.deny backend).
export const startSentryban = async (bin: string): Promise<Daemon> => {
  const dir = mkdtempSync(join(tmpdir(), 'ctl-soak-'));
  mkdirSync(join(dir, 'jails'));
  writeFileSync(
    join(dir, 'sentryban.yaml'),
    'state: state\nlogtarget: sentryban.log\nactions:\n  deny:\n    backend: hostsdeny\n    file: hosts.deny\n',
  );
  writeFileSync(
    join(dir, 'jails', 'app.yaml'),
    "app:\n  logpath: app.log\n  failregex: 'auth failure from <HOST>$'\n  actions: [deny]\n",
  );
  writeFileSync(join(dir, 'app.log'), '');
  const proc = execa(process.execPath, [bin, 'daemon', '--foreground', '--config', dir], {
    reject: false,
    buffer: false,
    timeout: 600_000,
    killSignal: 'SIGKILL',
  });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  proc.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const deadline = Date.now() + 20_000;
  while (!out.includes('sentryban: ready')) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`daemon did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    pid: proc.pid as number,
    dir,
    sock: join(dir, 'state', 'sentryban.sock'),
    bin,
    alive: () => proc.exitCode === null,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const r = await proc;
      rmSync(dir, { recursive: true, force: true });
      return r.exitCode;
    },
  };
};

// Polls until the daemon's fd count is back at `baseline` (or the deadline): the last count seen.
export const fdsBackTo = async (pid: number, baseline: number, timeoutMs = 15_000): Promise<number> => {
  const end = Date.now() + timeoutMs;
  let n = fdsOf(pid);
  while (n !== baseline && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    n = fdsOf(pid);
  }
  return n;
};
