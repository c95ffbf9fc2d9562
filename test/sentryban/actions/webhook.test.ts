import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../../src/core/clock.js';
import { specFromOptions } from '../../../src/sentryban/actions/options.js';
import type { WebhookSpec } from '../../../src/sentryban/actions/spec.js';
import { WebhookBackend } from '../../../src/sentryban/actions/webhook/apply.js';
import type { ActionOutcome } from '../../../src/sentryban/types.js';
import { HookServer } from '../../helpers/hook-server.js';
import { freePort } from '../../helpers/ports.js';
import { banOf } from './bans.js';

// The webhook backend against a real HTTP server on loopback: what it sends, and how a slow, failing or refusing
// server comes back as an outcome the daemon's Repairer retries.
const NOW = 1_700_000_000_000;
const server = new HookServer();
let url = '';
beforeAll(async () => {
  url = await server.listen();
});
afterAll(() => server.close());
beforeEach(() => {
  server.received.length = 0;
  server.mode = 'ok';
});

const spec = (o: Record<string, string>): WebhookSpec => {
  const r = specFromOptions('webhook', 'sshd', o, { file: 'sentryban.yaml', line: 7, path: 'actions.hook' });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value as WebhookSpec;
};
const backend = (o: Record<string, string> = {}): WebhookBackend =>
  new WebhookBackend(spec({ url, ...o }), new ManualClock(NOW), 'fw1');
const failure = (o: ActionOutcome): string => (o.ok ? 'ok' : `${o.failure.argv.join(' ')} | ${o.failure.stderr}`);

describe('webhook options', () => {
  it.each([
    [{}, 'actions.hook.url: expected an http:// or https:// URL, got ""'],
    [{ url: 'ftp://198.51.100.1/x' }, 'expected an http:// or https:// URL, got "ftp:" in "ftp://198.51.100.1/x"'],
    [{ url: 'http://127.0.0.1/', timeout: '0' }, 'actions.hook.timeout: expected a duration between 1s and 5m'],
    [{ url: 'http://127.0.0.1/', timeout: '1h' }, 'expected a duration between 1s and 5m, such as "10s", got "1h"'],
    [{ url: 'http://127.0.0.1/', authorization: 'a\nb' }, 'expected a header value on one line'],
    [{ url: 'http://127.0.0.1/', timeuot: '5s' }, 'unknown option for webhook (did you mean "timeout"?)'],
  ])('%j is refused with file:line', (o, message) => {
    const r = specFromOptions('webhook', 'sshd', o, { file: 'sentryban.yaml', line: 7, path: 'actions.hook' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => `${e.file}:${e.line}: ${e.path}: ${e.message}`).join('\n')).toContain(message);
    expect(r.errors[0]!.file).toBe('sentryban.yaml');
    expect(r.errors[0]!.line).toBe(7);
  });
  it('defaults: 10 s timeout, no authorization', () => {
    expect(spec({ url: 'https://hooks.example.org/x' })).toMatchObject({ timeoutMs: 10_000, authorization: null });
  });
});

describe('webhook notices', () => {
  it('a ban posts the notice as JSON with the lines behind it; an unban posts its own', async () => {
    const b = backend({ authorization: 'Bearer s3cret' });
    const ban = banOf('2001:db8::7', { now: NOW, sec: 600 });
    b.note(ban, ['line one from 2001:db8::7', 'line two']);
    expect(await b.ban(ban)).toEqual({ ok: true });
    expect(await b.unban(ban)).toEqual({ ok: true });
    expect(server.received.map((r) => [r.path, r.headers['content-type'], r.headers.authorization])).toEqual([
      ['/hook', 'application/json', 'Bearer s3cret'],
      ['/hook', 'application/json', 'Bearer s3cret'],
    ]);
    const [on, off] = server.bodies();
    expect(on).toEqual({
      version: 1,
      event: 'ban',
      jail: 'sshd',
      target: '2001:db8::7',
      bantime: 600,
      bannedAt: '2023-11-14T22:13:20.000Z',
      expiresAt: '2023-11-14T22:23:20.000Z',
      banCount: 1,
      lines: ['line one from 2001:db8::7', 'line two'],
      host: 'fw1',
      sentAt: '2023-11-14T22:13:20.000Z',
    });
    expect(off).toMatchObject({ event: 'unban', target: '2001:db8::7', lines: [] });
  });

  it('a permanent ban says so: bantime -1, expiresAt null', async () => {
    await backend().ban(banOf('192.0.2.9', { now: NOW, sec: null }));
    expect(server.bodies()[0]).toMatchObject({ bantime: -1, expiresAt: null, lines: [] });
  });

  it('start announces nothing: bans restored after a restart were announced when they were made', async () => {
    const b = backend();
    expect(await b.start([banOf('192.0.2.1'), banOf('192.0.2.2')])).toEqual({ ok: true });
    expect(await b.check([banOf('192.0.2.1'), banOf('192.0.2.2')])).toEqual({ ok: true });
    expect(server.received).toHaveLength(0);
  });

  it('a failing server (HTTP 500) is a failure with its answer; check later sends what was missed', async () => {
    const b = backend({ url: `${url.replace('http://', 'http://user:pw@')}` });
    const ban = banOf('198.51.100.4', { now: NOW });
    b.note(ban, ['Failed password for root from 198.51.100.4']);
    server.mode = 'fail';
    const r = await b.ban(ban);
    expect(failure(r)).toBe(`POST ${url} ban 198.51.100.4 | HTTP 500: upstream down`); // no credentials in logs
    expect(r.ok || r.failure.exitCode).toBe(500);
    // Meanwhile a ban that was announced ends without its unban being sent (the Repairer skips an out-of-sync
    // backend); the check puts both right.
    server.mode = 'ok';
    const old = banOf('198.51.100.5', { now: NOW });
    expect(await b.ban(old)).toEqual({ ok: true });
    server.received.length = 0;
    expect(await b.check([ban])).toEqual({ ok: true, repaired: 'sent 1 ban and 1 unban notice(s)' });
    expect(server.bodies().map((x) => [x.event, x.target, x.lines])).toEqual([
      ['ban', '198.51.100.4', ['Failed password for root from 198.51.100.4']],
      ['unban', '198.51.100.5', []],
    ]);
    expect(await b.check([ban])).toEqual({ ok: true }); // in sync: nothing more is sent
    expect(server.received).toHaveLength(2);
  });

  it('a server that never answers fails at the timeout; a refused connection fails at once', async () => {
    server.mode = 'hang';
    const t0 = Date.now();
    const r = await backend({ timeout: '1s' }).ban(banOf('192.0.2.3'));
    const took = Date.now() - t0;
    expect(failure(r)).toBe(`POST ${url} ban 192.0.2.3 | no answer within 1000 ms`);
    expect(took).toBeGreaterThanOrEqual(990);
    expect(took).toBeLessThan(5000);
    const closed = `http://127.0.0.1:${await freePort()}/hook`;
    const refused = await new WebhookBackend(spec({ url: closed }), new ManualClock(NOW), 'fw1').ban(
      banOf('192.0.2.3'),
    );
    expect(failure(refused)).toBe(`POST ${closed} ban 192.0.2.3 | ECONNREFUSED`);
  });
});
