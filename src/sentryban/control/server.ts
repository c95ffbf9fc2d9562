import { chmodSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { HANDLERS, type HandlerDeps } from './handlers.js';
import { PROTOCOL_VERSION, parseRequest, type Reply } from './protocol.js';

// Unix socket, mode 0600 in a folder only its owner can enter; a stale socket is replaced, anything else at
// that path is refused. Requests are handled one line at a time per connection.
export const startControlServer = async (path: string, deps: HandlerDeps): Promise<Server | string> => {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const d = lstatSync(dir);
  const uid = process.getuid?.() ?? 0;
  if (d.uid !== uid) return `${dir}: owned by uid ${d.uid}, not by this user (${uid}); refusing to put the control socket there`;
  if ((d.mode & 0o022) !== 0) return `${dir}: writable by group or others; refusing to put the control socket there`;
  try {
    const s = lstatSync(path);
    if (!s.isSocket()) return `${path}: exists and is not a socket`;
    rmSync(path);
  } catch { /* absent */ }
  const server = createServer((sock) => serve(sock, deps));
  const old = process.umask(0o177);
  try {
    await new Promise<void>((res, rej) => { server.once('error', rej); server.listen(path, () => res()); });
  } catch (e) { return `${path}: ${(e as Error).message}`; } finally { process.umask(old); }
  chmodSync(path, 0o600);
  return server;
};

const serve = (sock: Socket, deps: HandlerDeps): void => {
  let buf = '';
  let chain = Promise.resolve();
  sock.setEncoding('utf8');
  sock.on('error', () => sock.destroy());
  sock.on('data', (chunk: string) => {
    buf += chunk;
    if (buf.length > 1 << 20) { sock.destroy(); return; }
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      chain = chain.then(async () => { if (!sock.destroyed) sock.write(`${JSON.stringify(await answer(line, deps))}\n`); });
    }
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
