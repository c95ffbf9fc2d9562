import { lstatSync } from 'node:fs';
import { connect } from 'node:net';
import { PROTOCOL_VERSION, type Reply, type Verb } from './protocol.js';

// Why no reply came: each kind is one sentence and one exit code (unreachable.ts), never a stack trace.
export type Unreachable =
  | { kind: 'no-socket'; path: string } // nothing at the path (ENOENT, or ENOTDIR on the way)
  | { kind: 'not-allowed'; path: string; detail: string } // EACCES/EPERM on the path or at connect
  | { kind: 'foreign-owner'; path: string; uid: number } // a socket of another user: we refuse it
  | { kind: 'refused-uid'; path: string; uid: number } // the daemon refused our uid (SO_PEERCRED)
  | { kind: 'not-socket'; path: string }
  | { kind: 'stale'; path: string } // ECONNREFUSED: a socket file with no daemon behind it
  | { kind: 'timeout'; path: string; ms: number; busy: boolean } // busy: every try was told "busy"
  | { kind: 'closed'; path: string } // the daemon hung up before replying (it stopped, or crashed)
  | { kind: 'bad-reply'; path: string }
  | { kind: 'other'; path: string; detail: string };
export type Asked = { kind: 'reply'; reply: Reply } | { kind: 'unreachable'; why: Unreachable };
type Args = Record<string, string | number | undefined>;

const REFUSED_UID = /^uid (\d+) may not use this socket/;

// One request, one reply. The socket must belong to us or to root, so we never talk to someone else's daemon.
export const ask = async (path: string, verb: Verb, args: Args, timeoutMs = 10_000): Promise<Asked> => {
  const gone = (why: Unreachable): Asked => ({ kind: 'unreachable', why });
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return gone({ kind: 'not-allowed', path, detail: 'the folder' });
    return gone(code === 'ENOENT' || code === 'ENOTDIR' ? { kind: 'no-socket', path } : errorOf(path, e));
  }
  const uid = process.getuid?.() ?? 0;
  if (!st.isSocket()) return gone({ kind: 'not-socket', path });
  if (st.uid !== uid && st.uid !== 0) return gone({ kind: 'foreign-owner', path, uid: st.uid });
  // A daemon serving its most clients says "busy" (or the kernel's queue is full: EAGAIN): try again a little
  // later, within the same timeout.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await once(path, verb, args, Math.max(1, deadline - Date.now()));
    if (r.kind === 'busy' && Date.now() + 100 < deadline) {
      await new Promise((res) => setTimeout(res, 20 + Math.random() * 80));
      continue;
    }
    if (r.kind === 'busy') return gone({ kind: 'timeout', path, ms: timeoutMs, busy: true });
    if (r.kind === 'unreachable') return r.why.kind === 'timeout' ? gone({ ...r.why, ms: timeoutMs }) : r;
    const m = r.reply.ok ? null : REFUSED_UID.exec(r.reply.error);
    return m ? gone({ kind: 'refused-uid', path, uid: Number(m[1]) }) : r;
  }
};

// The same as a protocol reply (an error text for every failure): for callers that only want ok or not.
export const request = async (path: string, verb: Verb, args: Args, timeoutMs = 10_000): Promise<Reply> => {
  const r = await ask(path, verb, args, timeoutMs);
  return r.kind === 'reply' ? r.reply : { version: PROTOCOL_VERSION, ok: false, error: `${path}: ${r.why.kind}` };
};

const errorOf = (path: string, e: unknown): Unreachable => {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { kind: 'no-socket', path };
    case 'EACCES':
    case 'EPERM':
      return { kind: 'not-allowed', path, detail: 'the socket' };
    case 'ECONNREFUSED':
      return { kind: 'stale', path };
    case 'ECONNRESET':
    case 'EPIPE':
      return { kind: 'closed', path };
    default:
      return { kind: 'other', path, detail: err.code ?? err.message };
  }
};

// One try: the reply, "busy" (nothing was run: asking again is safe), or why nothing came back.
type Try = Asked | { kind: 'busy' };
const once = (path: string, verb: Verb, args: Args, timeoutMs: number): Promise<Try> =>
  new Promise((resolve) => {
    const sock = connect(path);
    let buf = '';
    const done = (r: Try): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const reply = (r: Reply): void =>
      done(!r.ok && r.error.startsWith('busy:') ? { kind: 'busy' } : { kind: 'reply', reply: r });
    const timer = setTimeout(
      () => done({ kind: 'unreachable', why: { kind: 'timeout', path, ms: timeoutMs, busy: false } }),
      timeoutMs,
    );
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify({ version: PROTOCOL_VERSION, verb, args })}\n`));
    sock.on('data', (c: string) => {
      buf += c;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let r: unknown;
      try {
        r = JSON.parse(buf.slice(0, nl));
      } catch {
        r = null;
      }
      if (isReply(r)) reply(r);
      else done({ kind: 'unreachable', why: { kind: 'bad-reply', path } });
    });
    // Hung up without a whole line: a daemon that stopped (or crashed) while we asked.
    sock.on('end', () => done({ kind: 'unreachable', why: { kind: 'closed', path } }));
    sock.on('error', (e: NodeJS.ErrnoException) =>
      done(e.code === 'EAGAIN' ? { kind: 'busy' } : { kind: 'unreachable', why: errorOf(path, e) }),
    );
  });

const isReply = (r: unknown): r is Reply =>
  typeof r === 'object' &&
  r !== null &&
  (((r as Reply).ok === true && 'result' in r) ||
    ((r as Reply).ok === false && typeof (r as { error?: unknown }).error === 'string'));
