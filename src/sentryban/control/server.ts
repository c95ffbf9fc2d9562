import { chmodSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { peerCredOf, type PeerCred } from '../../core/peer-cred.js';
import { HANDLERS, type HandlerDeps } from './handlers.js';
import { PROTOCOL_VERSION, parseRequest, type Reply } from './protocol.js';

// Unix socket, mode 0600 in a folder only its owner can enter; a stale socket is replaced, anything else at
// that path is refused. Two checks: the file mode, then the peer's uid (SO_PEERCRED) before anything is read:
// only root and the daemon's own uid are served. Requests are handled one line at a time per connection, in
// order; a client is bounded in what it can hold: one line of at most 1 MiB, `maxClients` connections at once
// (the next ones get a "busy" reply and are closed), `idleMs` without a byte while no request of it runs or
// while it does not read its replies.
export type ControlLimits = { idleMs: number; maxClients: number; maxLineBytes: number; queuedLines: number };
export const CONTROL_LIMITS: ControlLimits = { idleMs: 10_000, maxClients: 32, maxLineBytes: 1 << 20, queuedLines: 16 };

export type ControlOptions = {
  limits?: Partial<ControlLimits>;
  log?: (level: 'INFO' | 'WARNING', text: string) => void;
  // Who may talk: by default root and this process's uid.
  allowedUids?: readonly number[];
  peer?: (sock: Socket) => PeerCred | string;
};
export type ControlServer = { server: Server; clients(): number; close(): Promise<void> };

export const startControlServer = async (
  path: string,
  deps: HandlerDeps,
  opts: ControlOptions = {},
): Promise<ControlServer | string> => {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const d = lstatSync(dir);
  const uid = process.getuid?.() ?? 0;
  if (d.uid !== uid)
    return `${dir}: owned by uid ${d.uid}, not by this user (${uid}); refusing to put the control socket there`;
  if ((d.mode & 0o022) !== 0) return `${dir}: writable by group or others; refusing to put the control socket there`;
  try {
    const s = lstatSync(path);
    if (!s.isSocket()) return `${path}: exists and is not a socket`;
    rmSync(path);
  } catch {
    /* absent */
  }
  const limits = { ...CONTROL_LIMITS, ...opts.limits };
  const allowed = new Set(opts.allowedUids ?? [0, uid]);
  const peerOf = opts.peer ?? peerCredOf;
  const log = opts.log ?? (() => {});
  const open = new Set<Socket>();
  // allowHalfOpen: a client may send its request and shut its side (`nc -N`); the reply still reaches it.
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    open.add(sock);
    sock.once('close', () => open.delete(sock));
    sock.on('error', () => sock.destroy());
    const peer = peerOf(sock);
    const who = typeof peer === 'string' ? null : peer;
    if (who && !allowed.has(who.uid)) {
      const only = [...allowed].join(' and ');
      log('WARNING', `control socket: refused uid ${who.uid} (pid ${who.pid}): only uid ${only} may use it`);
      return refuse(sock, `uid ${who.uid} may not use this socket`);
    }
    if (!who && !unchecked(peer)) {
      log('WARNING', `control socket: refused a client: ${typeof peer === 'string' ? peer : 'no peer credentials'}`);
      return refuse(sock, 'peer unknown');
    }
    if (open.size > limits.maxClients) return refuse(sock, `busy: ${limits.maxClients} clients connected; try again`);
    serve(sock, deps, limits);
  });
  const old = process.umask(0o177);
  try {
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(path, () => res());
    });
  } catch (e) {
    return `${path}: ${(e as Error).message}`;
  } finally {
    process.umask(old);
  }
  // An accept error (EMFILE...) must not end the daemon: said, and the server goes on.
  server.on('error', (e) => log('WARNING', `control socket: ${e.message}`));
  chmodSync(path, 0o600);
  return {
    server,
    clients: () => open.size,
    close: async () => {
      const closed = new Promise<void>((res) => server.close(() => res()));
      for (const s of open) s.destroy();
      await closed;
    },
  };
};

// Without the native addon the peer cannot be known: the file mode (0600, folder 0700) is then the only check.
const unchecked = (why: string | PeerCred): boolean =>
  typeof why === 'string' && /not built|without peercred/.test(why);

const reply = (r: Reply): string => `${JSON.stringify(r)}\n`;
// The reply, then our side ends; what the client still sends is read and dropped (closing at once would fail its
// write with EPIPE before it reads why), until it closes, at most REFUSED_LINGER_MS.
const REFUSED_LINGER_MS = 2000;
const refuse = (sock: Socket, error: string): void => {
  sock.setTimeout(REFUSED_LINGER_MS, () => sock.destroy());
  sock.on('data', () => {});
  sock.on('end', () => sock.destroy());
  sock.end(reply({ version: PROTOCOL_VERSION, ok: false, error }));
};

const serve = (sock: Socket, deps: HandlerDeps, limits: ControlLimits): void => {
  let buf = '';
  const queue: string[] = [];
  let running = false;
  let ended = false;
  let stalled = false; // a reply waits for the client to read the ones before it
  sock.setEncoding('utf8');
  sock.setTimeout(limits.idleMs);
  sock.on('timeout', () => {
    if (stalled) {
      sock.destroy();
      return;
    } // idleMs without reading its replies: it holds a slot for nothing
    if (running || queue.length) return; // a request of this client runs: its reply is on the way
    const error = `no request within ${limits.idleMs} ms; closing`;
    sock.end(reply({ version: PROTOCOL_VERSION, ok: false, error }), () => sock.destroy());
  });
  const pump = async (): Promise<void> => {
    if (running) return;
    running = true;
    while (queue.length && !sock.destroyed) {
      const line = queue.shift() as string;
      const text = reply(await answer(line, deps));
      if (sock.destroyed || sock.writableEnded) break;
      if (!sock.write(text)) {
        stalled = true;
        await new Promise<void>((res) => {
          sock.once('drain', res);
          sock.once('close', res);
        });
        stalled = false;
      }
      if (queue.length < limits.queuedLines && !ended) sock.resume();
    }
    running = false;
    if (ended && !sock.destroyed && !sock.writableEnded) sock.end(() => sock.destroy());
  };
  sock.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      queue.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    if (buf.length > limits.maxLineBytes) {
      sock.destroy();
      return;
    }
    if (queue.length >= limits.queuedLines) sock.pause(); // replies not read: stop reading requests
    void pump();
  });
  // The client is done sending: a last line without its newline is still a request; then close after the replies.
  sock.on('end', () => {
    ended = true;
    if (buf.length) queue.push(buf);
    buf = '';
    void pump();
  });
};

const answer = async (line: string, deps: HandlerDeps): Promise<Reply> => {
  const req = parseRequest(line);
  if (typeof req === 'string') return { version: PROTOCOL_VERSION, ok: false, error: req };
  try {
    return { version: PROTOCOL_VERSION, ok: true, result: await HANDLERS[req.verb](req.args, deps) };
  } catch (e) {
    return { version: PROTOCOL_VERSION, ok: false, error: (e as Error).message };
  }
};
