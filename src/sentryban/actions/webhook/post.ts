import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

// One HTTP(S) POST of a JSON body with a deadline on the whole exchange. Never throws: the answer is the status
// (2xx is success) or the reason it did not arrive. Redirects are not followed (a 3xx is a failure).
export type PostResult = { ok: true; status: number } | { ok: false; status: number | null; why: string };

const MAX_REPLY = 2048; // bytes of a failing reply kept for the log

export const postJson = (
  url: URL,
  body: string,
  opts: { timeoutMs: number; headers?: Readonly<Record<string, string>> },
): Promise<PostResult> =>
  new Promise((resolve) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let done = false;
    const finish = (r: PostResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = send(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'user-agent': 'sentryban',
        ...opts.headers,
      },
    });
    const timer = setTimeout(() => {
      finish({ ok: false, status: null, why: `no answer within ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, status: null, why: e.code ?? e.message }));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_REPLY) chunks.push(c);
        size += c.length;
      });
      res.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, status, why: e.code ?? e.message }));
      res.on('end', () => {
        if (status >= 200 && status < 300) finish({ ok: true, status });
        else {
          const text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_REPLY).replace(/\s+/g, ' ').trim();
          finish({ ok: false, status, why: `HTTP ${status}${text ? `: ${text}` : ''}` });
        }
      });
    });
    req.end(body);
  });
