import { describe, expect, it } from '@jest/globals';
import { execaRunner, outcomeOf } from '../../../src/sentryban/actions/runner.js';

// The runner with real processes: input given in pieces reaches the tool byte for byte, in order; a piece that
// cannot be produced fails the run even when the tool, seeing its input end, exits 0.
describe('execaRunner input', () => {
  const run = execaRunner({ timeoutMs: 10000 });

  it('pieces are written in order, as they are produced', async () => {
    const produced: number[] = [];
    function* pieces(): Generator<string, void, void> {
      for (let i = 0; i < 50; i++) {
        produced.push(i);
        yield `${i} ${'x'.repeat(5000)}\n`;
      }
    }
    const r = await run(['cat'], { input: pieces() });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(Array.from({ length: 50 }, (_, i) => `${i} ${'x'.repeat(5000)}\n`).join(''));
    expect(produced).toHaveLength(50);
  });

  it('a piece that throws: the tool sees its input end, the run fails with the reason', async () => {
    function* pieces(): Generator<string, void, void> {
      yield 'first\n';
      throw new Error('cannot build the rest');
    }
    const r = await run(['cat'], { input: pieces() });
    expect(r.exitCode).toBeNull();
    expect(r.stderr).toContain('cannot build the rest');
    const o = outcomeOf('test', ['cat'], r);
    expect(o.ok).toBe(false);
  });

  it('async pieces: each written once produced; a throw after an await fails the run', async () => {
    async function* pieces(fail: boolean): AsyncGenerator<string, void, void> {
      yield 'a\n';
      await new Promise((r) => setTimeout(r, 20));
      if (fail) throw new Error('not ready');
      yield 'b\n';
    }
    expect(await run(['cat'], { input: pieces(false) })).toEqual({
      exitCode: 0,
      stdout: 'a\nb\n',
      stderr: '',
      timedOut: false,
    });
    const r = await run(['cat'], { input: pieces(true) });
    expect(r.exitCode).toBeNull();
    expect(r.stderr).toContain('not ready');
  });

  it('a string input is written whole; no input means stdin closed', async () => {
    expect((await run(['cat'], { input: 'a\nb\n' })).stdout).toBe('a\nb\n');
    expect(await run(['cat'])).toEqual({ exitCode: 0, stdout: '', stderr: '', timedOut: false });
  });
});
