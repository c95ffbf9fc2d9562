import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HookServer } from '../../helpers/hook-server.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { bin, denyLines, kill9, query, startDaemon, writeConfig, type Running } from './run-daemon.js';

// The webhook action in the real daemon (bin/sentryban): a server that hangs never holds back the firewall
// action listed after it, its failure is audited and retried by the Repairer, and the notice that finally
// arrives carries the line behind the ban. The server is a real HTTP server on loopback.
const server = new HookServer();
const running: Running[] = [];
const t = makeTmpDir('sentryban-webhook-');
afterEach(async () => {
  for (const r of running.splice(0)) if (r.proc.exitCode === null) await kill9(r).catch(() => {});
});
afterAll(async () => {
  await server.close();
  t.cleanup();
});

type Row = { kind: string; detail: string };
const audit = (dir: string): Row[] => query<Row>(dir, 'SELECT kind, detail FROM audit ORDER BY id');

describe('webhook action, end to end', () => {
  it('a hanging server does not hold back the ban; its failure is retried until the notice arrives', async () => {
    const url = await server.listen();
    const dir = t.dir;
    writeConfig(
      dir,
      {
        app: "app:\n  logpath: app.log\n  failregex: 'auth failure from <HOST>$'\n  maxretry: 1\n  bantime: 1h\n  ignoreself: false\n  actions: [hook, deny]\n",
      },
      `  hook:\n    backend: webhook\n    url: ${url}\n    timeout: 4s\ncheckinterval: 0\n`,
    );
    writeFileSync(join(dir, 'app.log'), '');
    const d = await startDaemon(dir);
    running.push(d);

    server.mode = 'hang';
    const line = `${new Date().toISOString()} auth failure from 192.0.2.5`;
    const t0 = Date.now();
    appendFileSync(join(dir, 'app.log'), `${line}\n`);
    await waitFor(() => denyLines(dir).includes('ALL: 192.0.2.5'), { timeoutMs: 5000, what: 'ban in hosts.deny' });
    const applied = Date.now() - t0;
    expect(applied).toBeLessThan(2500); // the webhook, listed first, waits 4 s for an answer that never comes
    await waitFor(() => server.received.length === 1, { timeoutMs: 4000, what: 'the notice reached the server' });

    const failedRow = await waitFor(() => audit(dir).find((r) => r.kind === 'action-failed'), {
      timeoutMs: 8000,
      what: 'action-failed row',
    });
    expect(failedRow.detail).toMatch(
      /^webhook:app ban failed \(attempt 1; next retry in 1s at .*\): POST http:\/\/127\.0\.0\.1:\d+\/hook ban 192\.0\.2\.5: no exit code no answer within 4000 ms$/,
    );

    server.mode = 'ok';
    const repaired = await waitFor(() => audit(dir).find((r) => r.kind === 'action-repaired'), {
      timeoutMs: 10_000,
      what: 'action-repaired row',
    });
    expect(repaired.detail).toMatch(
      /^webhook:app check \(retry\) back in sync after \d failure\(s\); repaired: sent 1 ban/,
    );
    const notices = server.bodies().filter((b) => b.event === 'ban');
    expect(notices.at(-1)).toMatchObject({ jail: 'app', target: '192.0.2.5', bantime: 3600, lines: [line] });

    const un = await execa('node', [bin, 'unban', '192.0.2.5', 'app', '--config', dir], { reject: false });
    expect(un.exitCode).toBe(0);
    await waitFor(() => server.bodies().some((b) => b.event === 'unban'), { timeoutMs: 5000, what: 'unban notice' });
    expect(denyLines(dir)).toEqual([]);
    expect(server.bodies().find((b) => b.event === 'unban')).toMatchObject({ target: '192.0.2.5', lines: [] });
  });
});
