import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

// A real HTTP server on loopback for webhook tests: it records every request and answers as `mode` says now
// ('ok' 204, 'fail' 500 with a text, 'slow' waits `delayMs` then 204, 'hang' never answers).
export type Received = { path: string; headers: IncomingMessage['headers']; body: unknown; at: number };
export type HookMode = 'ok' | 'fail' | 'slow' | 'hang';

export class HookServer {
  readonly received: Received[] = [];
  mode: HookMode = 'ok';
  delayMs = 2000;
  #server: Server;
  #open = new Set<ServerResponse>();
  port = 0;

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* kept as text */
        }
        this.received.push({ path: req.url ?? '', headers: req.headers, body, at: Date.now() });
        this.#answer(res);
      });
    });
  }

  listen(): Promise<string> {
    return new Promise((resolve) => {
      this.#server.listen(0, '127.0.0.1', () => {
        this.port = (this.#server.address() as { port: number }).port;
        resolve(`http://127.0.0.1:${this.port}/hook`);
      });
    });
  }

  close(): Promise<void> {
    for (const r of this.#open) r.destroy();
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  bodies<T = Record<string, unknown>>(): T[] {
    return this.received.map((r) => r.body as T);
  }

  #answer(res: ServerResponse): void {
    switch (this.mode) {
      case 'ok':
        res.writeHead(204).end();
        return;
      case 'fail':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream down\n');
        return;
      case 'slow': {
        this.#open.add(res);
        const t = setTimeout(() => {
          this.#open.delete(res);
          res.writeHead(204).end();
        }, this.delayMs);
        res.on('close', () => {
          clearTimeout(t);
          this.#open.delete(res);
        });
        return;
      }
      case 'hang':
        this.#open.add(res);
        res.on('close', () => this.#open.delete(res));
        return;
    }
  }
}
