import { afterAll, describe, expect } from '@jest/globals';
import { execa, type ResultPromise } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, type Lab } from '../helpers/netns.js';
import { itReal } from '../helpers/real.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { writeConfig } from '../sentryban/daemon/run-daemon.js';

// The listener's direct path into the ban manager, instead of a cron job that lifts PortSentry's blocks:
// `KILL_RUN_CMD="sentryban ban portsentry $TARGET$"` with `BLOCK_TCP="2"` (run the command only). A real probe
// from the attacker namespace -> the listener runs the client -> sentryban bans with nftables for 3 s (in the
// victim namespace) -> the ban is lifted at expiry, with no cron. Both daemons are the real bin/ scripts.
const it = itReal({ root: true, commands: ['nft', 'nc'] });
const PORTSENTRY = fileURLToPath(new URL('../../bin/portsentry', import.meta.url));
const SENTRYBAN = fileURLToPath(new URL('../../bin/sentryban', import.meta.url));
const { dir, cleanup } = makeTmpDir('ps-sentryban-');
const procs: ResultPromise[] = [];
let lab: Lab | null = null;
afterAll(async () => {
  for (const p of procs) if (p.pid && p.exitCode === null) process.kill(p.pid, 'SIGKILL');
  await Promise.all(procs.map((p) => p.catch(() => {})));
  await lab?.destroy();
  cleanup();
});

const started = (p: ResultPromise, what: string, ready: RegExp): Promise<() => string> => {
  let out = '';
  p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return waitFor(() => ready.test(out) || p.exitCode !== null, { timeoutMs: 20_000, what }).then(() => {
    if (!ready.test(out)) throw new Error(`${what} did not start:\n${out}`);
    return () => out;
  });
};

describe('KILL_RUN_CMD into sentryban', () => {
  it('probe -> timed ban in nftables through `sentryban ban portsentry $TARGET$` -> lifted at expiry', async () => {
    lab = await createLab();
    const sock = join(dir, 'sentryban.sock');
    writeConfig(
      join(dir, 'sb'),
      {
        portsentry: 'portsentry:\n  logpath: listener.log\n  failregex: never <HOST>\n  bantime: 3s\n  actions: [fw]\n',
      },
      `  fw: {backend: nftables, table: sb-ps-test}\nsocket: ${sock}\ncheckinterval: 0\n`,
    );
    writeFileSync(join(dir, 'sb', 'listener.log'), '');
    writeFileSync(join(dir, 'portsentry.ignore'), '127.0.0.1\n0.0.0.0\n');
    writeFileSync(
      join(dir, 'portsentry.conf'),
      [
        'TCP_PORTS="40123"',
        `IGNORE_FILE="${dir}/portsentry.ignore"`,
        `HISTORY_FILE="${dir}/portsentry.history"`,
        `BLOCKED_FILE="${dir}/portsentry.blocked"`,
        'BLOCK_TCP="2"',
        'SCAN_TRIGGER="0"',
        `KILL_RUN_CMD="${process.execPath} ${SENTRYBAN} ban portsentry $TARGET$ --socket ${sock}"`,
        '',
      ].join('\n'),
    );
    const sb = lab.run(
      lab.victim,
      [process.execPath, SENTRYBAN, 'daemon', '--foreground', '--config', join(dir, 'sb')],
      {
        reject: false,
        buffer: false,
        timeout: 60_000,
      },
    );
    procs.push(sb);
    await started(sb, 'sentryban ready', /sentryban: ready/);
    const ps = lab.run(
      lab.victim,
      [process.execPath, PORTSENTRY, '-tcp', '--config', join(dir, 'portsentry.conf'), '--foreground', '--stdout'],
      { reject: false, buffer: false, timeout: 60_000 },
    );
    procs.push(ps);
    const psOut = await started(ps, 'listener active', /now active and listening/);

    await lab.run(lab.attacker, ['nc', '-z', '-w', '2', lab.victimV4, '40123'], { reject: false });
    const set = async (): Promise<string> =>
      String(
        (await lab!.run(lab!.victim, ['nft', 'list', 'set', 'inet', 'sb-ps-test', 'h4'], { reject: false })).stdout,
      );
    await waitFor(async () => (await set()).includes(lab!.attackerV4), { timeoutMs: 10_000, what: 'ban in nftables' });
    const bannedAt = Date.now();
    expect(psOut()).toContain(`attackalert: Connect from host: ${lab.attackerV4}/${lab.attackerV4} to TCP port: 40123`);
    await waitFor(
      () => psOut().includes(`attackalert: External command run for host: ${lab!.attackerV4} using command: `),
      {
        timeoutMs: 5000,
        what: 'the command logged as run',
      },
    );
    expect(readFileSync(join(dir, 'portsentry.blocked.tcp'), 'utf8')).toContain(`Host: ${lab.attackerV4}/`);

    const list = await execa(process.execPath, [SENTRYBAN, 'list', 'portsentry', '--socket', sock, '--json']);
    const bans = JSON.parse(list.stdout) as { target: string; bantime: number; applied: string }[];
    expect(bans).toMatchObject([{ target: lab.attackerV4, applied: 'applied' }]);

    // The probe is blocked while banned: a second connect from the attacker gets no answer.
    const again = await lab.run(lab.attacker, ['nc', '-z', '-w', '1', lab.victimV4, '40123'], { reject: false });
    expect(again.exitCode).not.toBe(0);

    await waitFor(async () => !(await set()).includes(lab!.attackerV4), {
      timeoutMs: 8000,
      intervalMs: 50,
      what: 'ban lifted at expiry',
    });
    const liftedAfter = Date.now() - bannedAt;
    expect(liftedAfter).toBeGreaterThan(1500);
    expect(liftedAfter).toBeLessThan(5000);
    const audit = await execa(process.execPath, [
      SENTRYBAN,
      'audit',
      '--jail',
      'portsentry',
      '--socket',
      sock,
      '--json',
    ]);
    const kinds = (JSON.parse(audit.stdout) as { kind: string; detail: string }[]).map((r) => [
      r.kind,
      r.detail.split(';')[0],
    ]);
    expect(kinds).toEqual([
      ['ban', 'manual ban'],
      ['unban', 'expired'],
    ]);
  }, 60_000);
});
