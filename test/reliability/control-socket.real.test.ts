import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { join } from 'node:path';
import {
  badInputs,
  crowd,
  deafClient,
  fdsBackTo,
  fdsOf,
  otherUid,
  sentryban,
  startSentryban,
  STATUS,
  talk,
  type Daemon,
} from '../../bench/soak/lib/control-socket.js';
import { request } from '../../src/sentryban/control/client.js';
import { repo } from '../sentryban/daemon/run-daemon.js';
import { itReal } from '../helpers/real.js';
import { waitFor } from '../helpers/wait.js';

// The control socket against the real daemon (the fast version of `npm run soak control-socket`): another uid,
// bad input, an idle client, 1,000 clients at once; the daemon answers or closes each, lives, gives its fds back.
const real = itReal({ root: true, commands: ['setpriv'] });
const BIN = join(repo, 'bin/sentryban');
let d: Daemon | null = null;
let base = 0;

beforeAll(async () => {
  d = await startSentryban(BIN);
  base = fdsOf(d.pid);
});
afterAll(async () => {
  await d?.stop();
});

describe('control socket under abuse', () => {
  real('another uid is refused by the file mode, and by SO_PEERCRED once the socket is open to all', async () => {
    const ban = '{"version":1,"verb":"ban","args":{"jail":"app","target":"192.0.2.77"}}';
    const r = await otherUid(d!.sock, ban);
    expect(r.atFileMode).toEqual({ kind: 'error', code: 'EACCES' });
    const refused = { version: 1, ok: false, error: 'uid 65534 may not use this socket' };
    expect(r.atPeerCheck).toEqual({ kind: 'reply', reply: refused });
    expect(String((await sentryban(BIN, d!.dir, ['list'])).stdout)).toBe('no bans in force');
    expect(d!.output()).toMatch(/WARNING control socket: refused uid 65534 \(pid \d+\): only uid 0 may use it\n/);
  });
  real(
    'garbage, half a message, an idle client: each answered or closed, none left hanging',
    async () => {
      const r = await badInputs(d!.sock);
      const idle = { kind: 'reply', reply: { version: 1, ok: false, error: 'no request within 10000 ms; closing' } };
      const notJson = { kind: 'reply', reply: { version: 1, ok: false, error: 'not JSON' } };
      expect(r.idle).toMatchObject(idle);
      expect(r.half).toMatchObject(idle);
      for (const o of [r.halfEnded, r.garbage, r.binary, r.lines]) expect(o).toMatchObject(notJson);
      expect(['closed', 'error']).toContain(r.huge.kind);
    },
    40_000,
  );
  real(
    'a client that never reads its replies is dropped after the idle timeout',
    async () => {
      const s = await deafClient(d!.sock, 5000);
      try {
        await waitFor(() => fdsOf(d!.pid) > base, { what: 'the client accepted' });
        await waitFor(() => fdsOf(d!.pid) === base, { timeoutMs: 20_000, what: 'the daemon to drop the client' });
      } finally {
        s.destroy();
      }
    },
    30_000,
  );
  real(
    '1,000 clients at once: each served or told busy; through the client, all served',
    async () => {
      const c = await crowd(d!.sock, 1000, STATUS);
      expect({ other: c.other, hung: c.hung }).toEqual({ other: [], hung: 0 });
      expect(c.served + c.busy + c.refusedByKernel).toBe(1000);
      expect(c.served).toBeGreaterThan(0);
      const viaClient = await Promise.all(Array.from({ length: 200 }, () => request(d!.sock, 'status', {}, 30_000)));
      expect(viaClient.filter((x) => !x.ok).map((x) => !x.ok && x.error)).toEqual([]);
    },
    60_000,
  );
  real(
    'alive afterwards, every fd given back, and SIGTERM ends it even with an idle client connected',
    async () => {
      expect(await fdsBackTo(d!.pid, base)).toBe(base);
      expect(d!.alive()).toBe(true);
      const idle = talk(d!.sock, null);
      await waitFor(() => fdsOf(d!.pid) > base, { what: 'the idle client accepted' });
      process.kill(d!.pid, 'SIGTERM');
      await waitFor(() => !d!.alive(), { timeoutMs: 5000, what: 'the daemon to end (the idle timeout is 10 s)' });
      expect((await idle).kind).not.toBe('hung');
    },
    30_000,
  );
});
