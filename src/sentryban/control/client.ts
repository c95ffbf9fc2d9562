import { lstatSync } from 'node:fs';
import { connect } from 'node:net';
import { PROTOCOL_VERSION, type Reply, type Verb } from './protocol.js';

// One request, one reply. The socket must belong to us or to root, so we never talk to someone else's daemon.
export const request = async (
  path: string,
  verb: Verb,
  args: Record<string, string | number | undefined>,
  timeoutMs = 10_000,
): Promise<Reply> => {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return { version: PROTOCOL_VERSION, ok: false, error: `${path}: no control socket (is the daemon running?)` };
  }
  const uid = process.getuid?.() ?? 0;
  if (!st.isSocket()) return { version: PROTOCOL_VERSION, ok: false, error: `${path}: not a socket` };
  if (st.uid !== uid && st.uid !== 0)
    return { version: PROTOCOL_VERSION, ok: false, error: `${path}: owned by uid ${st.uid}; refusing to talk to it` };
  // A daemon serving its most clients says "busy" (or the kernel's queue is full: EAGAIN): try again a little
  // later, within the same timeout.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [r, busy] = await once(path, verb, args, Math.max(1, deadline - Date.now()));
    if (!busy || Date.now() + 100 >= deadline) return r;
    await new Promise((res) => setTimeout(res, 20 + Math.random() * 80));
  }
};

// The reply, and whether it says busy (nothing was run: asking again is safe).
type Args = Record<string, string | number | undefined>;
const once = (path: string, verb: Verb, args: Args, timeoutMs: number): Promise<[Reply, boolean]> =>
  new Promise((resolve) => {
    const sock = connect(path);
    let buf = '';
    const done = (r: Reply, busy = !r.ok && r.error.startsWith('busy:')): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve([r, busy]);
    };
    const timer = setTimeout(
      () => done({ version: PROTOCOL_VERSION, ok: false, error: `no reply within ${timeoutMs} ms` }),
      timeoutMs,
    );
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify({ version: PROTOCOL_VERSION, verb, args })}\n`));
    sock.on('data', (c: string) => {
      buf += c;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      try {
        done(JSON.parse(buf.slice(0, nl)) as Reply);
      } catch {
        done({ version: PROTOCOL_VERSION, ok: false, error: 'bad reply' });
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) =>
      done({ version: PROTOCOL_VERSION, ok: false, error: `${path}: ${e.message}` }, e.code === 'EAGAIN'),
    );
  });
