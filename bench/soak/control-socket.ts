import { fileURLToPath } from 'node:url';
import { request } from '../../src/sentryban/control/client.js';
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
  type Outcome,
} from './lib/control-socket.js';

// `npm run soak control-socket`: the control socket against a real daemon: another uid (refused by the socket's
// mode, then by SO_PEERCRED once the socket is opened to everyone), garbage, half a message, an idle client,
// 1,000 clients at once (three rounds). Prints what each got, whether the daemon lives, and its fds after.
const BIN = fileURLToPath(new URL('../../../bin/sentryban', import.meta.url));
const show = (o: Outcome & { ms?: number }): string => {
  const what = o.kind === 'reply' ? ` (${o.reply.ok ? 'ok' : o.reply.error})` : o.kind === 'error' ? ` ${o.code}` : '';
  return `${o.kind}${what}${o.ms !== undefined ? ` after ${o.ms} ms` : ''}`;
};

export async function main(_args: string[]): Promise<void> {
  const d = await startSentryban(BIN);
  try {
    const base = fdsOf(d.pid);
    const ban = '{"version":1,"verb":"ban","args":{"jail":"app","target":"192.0.2.77"}}';
    const other = await otherUid(d.sock, ban);
    const bans = String((await sentryban(BIN, d.dir, ['list'])).stdout)
      .split('\n')
      .filter(Boolean).length;
    console.log(
      `control-socket: uid nobody: at the file mode ${show(other.atFileMode)}; ` +
        `socket opened 0666: ${show(other.atPeerCheck)}; bans made by it ${bans}`,
    );
    const bad = await badInputs(d.sock);
    for (const [k, o] of Object.entries(bad)) console.log(`control-socket: ${k}: ${show(o)}`);
    const deaf = await deafClient(d.sock, 5000);
    const t1 = Date.now();
    const dropped = (await fdsBackTo(d.pid, base, 30_000)) === base;
    deaf.destroy();
    console.log(
      `control-socket: a client sending 5,000 requests and reading no reply: ` +
        `${dropped ? `dropped after ${Date.now() - t1} ms` : 'NOT dropped within 30 s'}`,
    );
    for (let round = 1; round <= 3; round++) {
      const c = await crowd(d.sock, 1000, STATUS);
      const other = c.other.length ? ` ${c.other.slice(0, 3).join(' ')}` : '';
      console.log(
        `control-socket: 1,000 clients at once (round ${round}): served ${c.served}, busy ${c.busy}, ` +
          `refused by the kernel (backlog full) ${c.refusedByKernel}, hung ${c.hung}, ` +
          `other ${c.other.length}${other}, ${c.ms} ms`,
      );
    }
    const t0 = Date.now();
    const via = await Promise.all(Array.from({ length: 1000 }, () => request(d.sock, 'status', {}, 30_000)));
    const failed = via.filter((r) => !r.ok).map((r) => !r.ok && r.error);
    console.log(
      `control-socket: 1,000 clients at once through the client (it asks again when told busy): ` +
        `served ${via.length - failed.length}, failed ${failed.length}${failed.length ? ` (${failed[0]})` : ''}, ` +
        `${Date.now() - t0} ms`,
    );
    const after = await fdsBackTo(d.pid, base);
    const status = await crowd(d.sock, 1, STATUS);
    console.log(
      `control-socket: daemon alive ${d.alive() ? 'yes' : 'NO'}, ` +
        `answers status ${status.served === 1 ? 'yes' : 'NO'}, fds ${base} before, ${after} after`,
    );
  } finally {
    console.log(`control-socket: daemon stopped by SIGTERM, exit ${String(await d.stop())}`);
  }
}
