import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { execaRunner, type ResidentProcess, type Runner } from '../../../src/sentryban/actions/runner.js';
import { NftSession, nftSession } from '../../../src/sentryban/actions/nftables/session.js';
import { itReal } from '../../helpers/real.js';
import { waitFor } from '../../helpers/wait.js';

// The resident `nft -i`: each request one transaction, its errors its own (the next request's reply is clean),
// the process replaced after its quota and after it dies, a missing tool a failure, and a daemon holding one
// still exits by itself (the process never keeps it open) and takes nft with it.
describe('nft -i session in a namespace', () => {
  const it = itReal({ root: true, commands: ['ip', 'nft'] });
  const ns = `sb-nfts-${process.pid}`;
  let run: Runner;
  const nft = async (...args: string[]): Promise<string> =>
    (await execa('ip', ['netns', 'exec', ns, 'nft', ...args], { timeout: 10000 })).stdout;
  const elements = async (): Promise<string[]> =>
    (await nft('list', 'set', 'inet', 'st', 's')).match(/192\.0\.2\.\d+|2001:db8::\w+/g) ?? [];

  beforeAll(async () => {
    if (!(await execa('ip', ['netns', 'add', ns], { reject: false })).failed) {
      await nft('add', 'table', 'inet', 'st');
      await nft('add', 'set', 'inet', 'st', 's', '{ type ipv4_addr; flags timeout; }');
    }
    run = execaRunner({ prefix: ['ip', 'netns', 'exec', ns], timeoutMs: 10000 });
  });
  afterAll(async () => {
    await execa('ip', ['netns', 'del', ns], { reject: false });
  });

  it("one transaction a request; an error is the failing request's alone; the quota replaces the process", async () => {
    const s = new NftSession(run.resident!, 4);
    expect(await s.send('add element inet st s { 192.0.2.1 timeout 60s }\n')).toEqual({
      exitCode: 0,
      stdout: '',
      stderr: '',
      timedOut: false,
    });
    const first = s.pid;
    expect(first).toBeDefined();
    // 192.0.2.1 is there: the create fails, and with it the whole line, 192.0.2.2 included.
    const bad = await s.send('create element inet st s { 192.0.2.2 }\ncreate element inet st s { 192.0.2.1 }\n');
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('File exists');
    expect(bad.stderr).not.toContain('@@sync');
    const unknown = await s.send('add element inet st nosuch { 192.0.2.3 }\n');
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('No such file or directory');
    expect(unknown.stderr).not.toContain('File exists');
    expect(await elements()).toEqual(['192.0.2.1']);
    // The fourth request is the quota: it is served, then the process ends and another takes over.
    expect((await s.send('add element inet st s { 192.0.2.4 }\n')).exitCode).toBe(0);
    await waitFor(() => !existsSync(`/proc/${first}`), { timeoutMs: 5000, what: 'the first nft -i to end' });
    expect((await s.send('delete element inet st s { 192.0.2.4 }\n')).exitCode).toBe(0);
    expect(s.pid).toBeDefined();
    expect(s.pid).not.toBe(first);
    expect(await elements()).toEqual(['192.0.2.1']);
  });

  it('nft killed: the next request starts another and succeeds', async () => {
    const s = new NftSession(run.resident!);
    expect((await s.send('add element inet st s { 192.0.2.5 }\n')).exitCode).toBe(0);
    const pid = s.pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !existsSync(`/proc/${pid}`), { timeoutMs: 5000, what: 'nft to die' });
    await waitFor(() => s.pid === undefined, { timeoutMs: 5000, what: 'the session to see it' });
    expect((await s.send('add element inet st s { 192.0.2.6 }\n')).exitCode).toBe(0);
    expect(s.pid).not.toBe(pid);
    expect(await elements()).toEqual(expect.arrayContaining(['192.0.2.5', '192.0.2.6']));
  });

  it('a missing tool fails the request with the reason, and every later one', async () => {
    const s = new NftSession(
      execaRunner({ prefix: ['ip', 'netns', 'exec', ns, 'env', 'PATH=/nonexistent'], timeoutMs: 10000 }).resident!,
    );
    for (let i = 0; i < 2; i++) {
      const r = await s.send('add element inet st s { 192.0.2.7 }\n');
      expect(r.exitCode).toBe(127);
      expect(r.stderr).toContain('nft');
      expect(r.timedOut).toBe(false);
    }
    expect(await elements()).not.toContain('192.0.2.7');
  });

  it('runners aimed at one namespace share one process', () => {
    const other = execaRunner({ prefix: ['ip', 'netns', 'exec', ns], timeoutMs: 10000 });
    expect(nftSession(run)).toBe(nftSession(other));
    expect(nftSession(execaRunner())).not.toBe(nftSession(run));
    expect(nftSession(Object.assign(async () => ({ exitCode: 0, stdout: '', stderr: '', timedOut: false }), {}))).toBe(
      null,
    );
  });

  it('a process that used the session exits by itself, and its nft ends with it', async () => {
    const js = `
      const { execaRunner } = await import(${JSON.stringify(new URL('../../../dist/sentryban/actions/runner.js', import.meta.url).href)});
      const { nftSession } = await import(${JSON.stringify(new URL('../../../dist/sentryban/actions/nftables/session.js', import.meta.url).href)});
      const s = nftSession(execaRunner({ prefix: ['ip', 'netns', 'exec', ${JSON.stringify(ns)}] }));
      const r = await s.send('add element inet st s { 192.0.2.8 }\\n');
      console.log(JSON.stringify({ exitCode: r.exitCode, pid: s.pid }));
    `;
    const t0 = Date.now();
    const r = await execa(process.execPath, ['--input-type=module', '-e', js], { timeout: 20000, reject: false });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(0);
    expect(Date.now() - t0).toBeLessThan(15000); // not the session's 60 s idle end
    const out = JSON.parse(r.stdout) as { exitCode: number; pid: number };
    expect(out.exitCode).toBe(0);
    await waitFor(() => !existsSync(`/proc/${out.pid}`), { timeoutMs: 5000, what: 'its nft -i to end' });
    expect(await elements()).toContain('192.0.2.8');
  });
});

// The session's own faults, with a stand-in process: one that cannot start, one that never answers.
describe('nft -i session faults', () => {
  const silent = (): { proc: ResidentProcess; killed: () => boolean } => {
    let killed = false;
    let end: ((code: number | null, why: string) => void) | undefined;
    return {
      killed: () => killed,
      proc: {
        pid: undefined,
        write: () => undefined,
        end: () => undefined,
        kill: () => {
          killed = true;
          end?.(null, 'killed by SIGKILL');
        },
        onStderr: () => undefined,
        onEnd: (f) => {
          end = f;
        },
      },
    };
  };

  it('a process that cannot start fails each request with the reason, and a later one starts', async () => {
    let starts = 0;
    const s = new NftSession({
      key: 'start-fails',
      timeoutMs: 1000,
      start: () => (++starts < 3 ? Promise.reject(new Error('no fork')) : Promise.resolve(silent().proc)),
    });
    for (let i = 0; i < 2; i++)
      expect(await s.send('add element inet t s { 192.0.2.1 }\n')).toEqual({
        exitCode: null,
        stdout: '',
        stderr: 'cannot start nft -i: Error: no fork',
        timedOut: false,
      });
    const r = await s.send('add element inet t s { 192.0.2.1 }\n'); // starts, then never answers
    expect(starts).toBe(3);
    expect(r.timedOut).toBe(true);
  });

  it('no answer within the timeout: the request fails as timed out and its process is killed', async () => {
    const one = silent();
    const s = new NftSession({ key: 'silent', timeoutMs: 200, start: () => Promise.resolve(one.proc) });
    const t0 = Date.now();
    const r = await s.send('add element inet t s { 192.0.2.1 }\n');
    expect(r).toEqual({ exitCode: null, stdout: '', stderr: '', timedOut: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(one.killed()).toBe(true);
  });
});
