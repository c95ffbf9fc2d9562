import { describe, expect, it } from '@jest/globals';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';

// The real module (npm test builds dist/ first) in a child node that may ask V8 whether a function was optimized:
// %GetOptimizationStatus, bit 4 (16) = optimized.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODULE = pathToFileURL(join(ROOT, 'dist', 'core', 'start-up-jit.js')).href;
const OPTIMIZED = 16;

const statuses = async (body: string): Promise<number[]> => {
  const script = `
    import { holdOptimizer, releaseOptimizer } from '${MODULE}';
    const hot = () => {
      const f = (n) => { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; };
      for (let i = 0; i < 3000; i++) f(1000);
      return %GetOptimizationStatus(f);
    };
    ${body}`;
  // Optimization on the main thread (--no-concurrent-recompilation): with the compiler on its own thread, a loaded
  // machine can leave `f` only marked for optimization when its status is read, whatever the hold does.
  const r = await execa(
    'node',
    ['--allow-natives-syntax', '--no-concurrent-recompilation', '--input-type=module', '-e', script],
    { reject: false },
  );
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').map(Number);
};

describe('start-up-jit', () => {
  it('holds the optimizer back until released, then hot code is optimized as before', async () => {
    const [before, held, released] = await statuses(
      'console.log(hot()); holdOptimizer(); console.log(hot()); releaseOptimizer(); console.log(hot());',
    );
    expect((before ?? 0) & OPTIMIZED).toBe(OPTIMIZED);
    expect((held ?? 0) & OPTIMIZED).toBe(0);
    expect((released ?? 0) & OPTIMIZED).toBe(OPTIMIZED);
  });

  it('a release without a hold changes nothing (main() run inside a test)', async () => {
    const [s] = await statuses('releaseOptimizer(); console.log(hot());');
    expect((s ?? 0) & OPTIMIZED).toBe(OPTIMIZED);
  });
});
