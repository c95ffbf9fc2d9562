import { afterEach, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withFileLock } from '../../../src/sentryban/actions/hostsdeny/lock.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

// The hosts.deny lock with real processes: one that dies holding it, one that holds it alive, leftovers.
const LOCK_JS = fileURLToPath(new URL('../../../dist/sentryban/actions/hostsdeny/lock.js', import.meta.url));
const tmps: (() => void)[] = [];
afterEach(() => {
  while (tmps.length) tmps.pop()?.();
});
const dir = (): string => {
  const t = makeTmpDir('sb-lock-');
  tmps.push(t.cleanup);
  return t.dir;
};

// A node process that takes the lock and holds it until killed or its stdin ends; resolves once it holds it
// (wrapped: the child is a thenable, and awaiting it would wait for its exit).
const holder = async (lock: string) => {
  const script = `const { withFileLock } = await import(${JSON.stringify(LOCK_JS)});
    await withFileLock(${JSON.stringify(lock)}, 5000, async () => { process.stdout.write('held\\n'); await new Promise((r) => process.stdin.on('end', r).resume()); });`;
  const child = execa('node', ['--input-type=module', '-e', script], { reject: false, buffer: false, stdin: 'pipe' });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await waitFor(() => out.includes('held'), { timeoutMs: 10000, what: 'holder to take the lock' });
  return { child };
};

describe('hosts.deny lock file', () => {
  it('a lock left by a process killed while holding it is broken at once', async () => {
    const lock = join(dir(), 'hosts.deny.lock');
    const { child } = await holder(lock);
    expect(readFileSync(lock, 'utf8')).toMatch(new RegExp(`^${child.pid} [0-9a-f]+$`));
    child.kill('SIGKILL');
    await child;
    const t0 = Date.now();
    expect(await withFileLock(lock, 2000, async () => 'mine')).toBe('mine');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(readdirSync(join(lock, '..'))).toEqual([]);
  });

  it('a live holder is waited for, and the timeout names it', async () => {
    const lock = join(dir(), 'hosts.deny.lock');
    const { child } = await holder(lock);
    await expect(withFileLock(lock, 300, async () => 'mine')).rejects.toThrow(
      new RegExp(`within 300 ms \\(held by ${child.pid} `),
    );
    const waiting = withFileLock(lock, 5000, async () => 'mine');
    child.stdin?.end();
    await child;
    expect(await waiting).toBe('mine');
  });

  it('this pid with another token is a previous incarnation (PID 1 in a container): broken', async () => {
    const lock = join(dir(), 'hosts.deny.lock');
    writeFileSync(lock, `${process.pid} 00000000deadbeef`);
    expect(await withFileLock(lock, 500, async () => 'mine')).toBe('mine');
    writeFileSync(lock, `${process.pid}`); // the earlier format: a bare pid
    expect(await withFileLock(lock, 500, async () => 'mine')).toBe('mine');
  });

  it('an empty or foreign lock is respected while fresh and broken once old', async () => {
    const lock = join(dir(), 'hosts.deny.lock');
    writeFileSync(lock, '');
    await expect(withFileLock(lock, 200, async () => 'mine')).rejects.toThrow(/could not take the lock/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    expect(await withFileLock(lock, 500, async () => 'mine')).toBe('mine');
  });

  it('callers in one process exclude each other: 30 concurrent read-modify-writes lose nothing', async () => {
    const d = dir();
    const lock = join(d, 'f.lock');
    const file = join(d, 'f');
    writeFileSync(file, '0');
    await Promise.all(
      Array.from({ length: 30 }, () =>
        withFileLock(lock, 10000, async () => {
          const n = Number(readFileSync(file, 'utf8'));
          await new Promise((r) => setTimeout(r, 1));
          writeFileSync(file, String(n + 1));
        }),
      ),
    );
    expect(readFileSync(file, 'utf8')).toBe('30');
    expect(readdirSync(d).sort()).toEqual(['f']);
  });
});
