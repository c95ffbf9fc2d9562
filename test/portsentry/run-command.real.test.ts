import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCommandRunner, type Starter } from '../../src/portsentry/run-command.js';
import { nativeSpawn, nativeSpawnStatus } from '../../src/portsentry/fast-spawn.js';

// Both command starters, through real processes: the native posix_spawn one (used when built) and the
// child_process.spawn fallback. Same outcomes expected from both.
const dir = mkdtempSync(join(tmpdir(), 'run-command-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const isCi = process.env.CI === 'true';

// This process's children that are zombies (ended, never reaped).
const zombies = (): number[] =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return state === 'Z' && Number(ppid) === process.pid ? [Number(p)] : [];
      } catch {
        return [];
      }
    });

it('the native starter is built and loaded (CI builds it at npm ci)', () => {
  if (!isCi && !nativeSpawn) {
    console.log(`native starter: ${nativeSpawnStatus}`);
    return;
  }
  expect(nativeSpawnStatus).toBe('loaded');
});

for (const starter of ['native', 'node'] as Starter[]) {
  const absent = starter === 'native' && !nativeSpawn;
  // Outside CI an unbuilt addon skips its cases with the reason; in CI it fails them.
  const t = absent && !isCi ? it.skip : it;
  describe(`${starter} starter${absent ? ` [${nativeSpawnStatus}]` : ''}`, () => {
    const run = (timeoutMs = 10000) => makeCommandRunner(timeoutMs, starter);

    t('reports the exit code, zero or not', async () => {
      expect(await run()(['/bin/true'])).toEqual({ kind: 'ran', exitCode: 0 });
      expect(await run()(['/bin/sh', '-c', 'exit 7'])).toEqual({ kind: 'ran', exitCode: 7 });
      expect(await run()(['false'])).toEqual({ kind: 'ran', exitCode: 1 }); // PATH lookup, as 1.2's system()
    });

    t('reports exec failure for a missing or non-executable program, and runs nothing', async () => {
      expect((await run()(['/nonexistent/kill-route'])).kind).toBe('exec-fail');
      expect((await run()(['no-such-command-sentrytools'])).kind).toBe('exec-fail');
      const notExec = join(dir, `plain-${starter}`);
      writeFileSync(notExec, '#!/bin/sh\nexit 0\n');
      chmodSync(notExec, 0o644);
      expect((await run()([notExec])).kind).toBe('exec-fail');
      expect((await run()([])).kind).toBe('exec-fail');
      expect((await run()(['/bin/true', 'a\0b'])).kind).toBe('exec-fail');
      expect(zombies()).toEqual([]);
    });

    t('a command killed by a signal is not "ran"', async () => {
      expect((await run()(['/bin/sh', '-c', 'kill -TERM $$'])).kind).toBe('exec-fail');
    });

    t('kills a hung command with SIGKILL at the timeout and reaps it', async () => {
      const pidFile = join(dir, `hung-${starter}`);
      const t0 = Date.now();
      // TERM is trapped: only SIGKILL ends it.
      const out = await run(400)(['/bin/sh', '-c', `trap "" TERM; echo $$ > ${pidFile}; exec sleep 30`]);
      expect(out).toEqual({ kind: 'timeout' });
      expect(Date.now() - t0).toBeLessThan(10000);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(pid).toBeGreaterThan(0);
      expect(existsSync(`/proc/${pid}`)).toBe(false); // gone, not a zombie
    });

    t('argv goes to the program as is: no shell, stdio on /dev/null, no signal ignored or blocked', async () => {
      const mark = join(dir, `injected-${starter}`);
      expect(await run()(['/bin/echo', `; touch ${mark}`, `$(touch ${mark})`, '`touch x`'])).toEqual({
        kind: 'ran',
        exitCode: 0,
      });
      expect(existsSync(mark)).toBe(false);
      const fds = 'for f in 0 1 2; do [ "$(readlink /proc/$$/fd/$f)" = /dev/null ] || exit 3; done';
      expect(await run()(['/bin/sh', '-c', fds])).toEqual({ kind: 'ran', exitCode: 0 });
      if (starter === 'native') {
        // Only 0, 1 and 2 reach the command: a non-CLOEXEC descriptor of the daemon's (raw sockets) does not.
        const fdList = join(dir, `fds-${starter}`);
        expect(await run()(['/bin/sh', '-c', `exec ls -l /proc/self/fd > ${fdList}`])).toEqual({
          kind: 'ran',
          exitCode: 0,
        });
        // ls's own: 0-2 and the directory it is listing.
        const extra = readFileSync(fdList, 'utf8')
          .split('\n')
          .map((l) => / (\d+) -> (.*)$/.exec(l))
          .filter((m) => m !== null)
          .filter((m) => Number(m[1]) > 2 && !/^\/proc\/\d+\/fd$/.test(m[2] ?? ''))
          .map((m) => `${m[1]} -> ${m[2]}`);
        expect(extra).toEqual([]);
      }
      const status = join(dir, `status-${starter}`);
      expect(await run()(['/bin/sh', '-c', `exec cat /proc/self/status > ${status}`])).toEqual({
        kind: 'ran',
        exitCode: 0,
      });
      const field = (name: string): bigint =>
        BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(readFileSync(status, 'utf8'))?.[1] ?? 'ffff'}`);
      expect(field('SigBlk')).toBe(0n);
      // Nothing ignored (the daemon ignores SIGPIPE), but glibc's two internal signals (32, 33), which glibc's
      // posix_spawn, and so 1.2's system(), leaves ignored; no program sees them.
      expect(field('SigIgn') & ~0x180000000n).toBe(0n);
    });

    t(
      '200 concurrent commands: each its own exit code, none left a zombie',
      async () => {
        const outs = await Promise.all(
          Array.from({ length: 200 }, (_, i) => run()(['/bin/sh', '-c', `exit ${i % 256}`])),
        );
        expect(outs).toEqual(Array.from({ length: 200 }, (_, i) => ({ kind: 'ran', exitCode: i % 256 })));
        expect(zombies()).toEqual([]);
      },
      60000,
    );
  });
}
