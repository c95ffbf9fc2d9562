import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAsanAddons, canary, driveUnderAsan } from '../../bench/soak/lib/asan.js';
import { itReal } from '../helpers/real.js';

// native/*.c under AddressSanitizer and UBSAN (the fast version of `npm run soak asan`, which also runs the
// addons' own tests): a build of its own, every exported function driven with good and bad arguments.
const real = itReal({ commands: ['gcc', 'readelf', 'npm'] });
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'asan-test-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('native addons under sanitizers', () => {
  real('the harness reports planted faults (a heap overflow, a signed overflow)', async () => {
    expect(await canary(work)).toBe(2);
  });
  real(
    'every addon function, good and bad arguments: 0 findings',
    async () => {
      const addons = await buildAsanAddons(work);
      const r = await driveUnderAsan(work, addons);
      const failed = r.output.split('\n').filter((l) => l.startsWith('FAILED'));
      expect({ found: r.found, failed }).toEqual({ found: [], failed: [] });
      expect(r.output).toMatch(/drive: \d+ checks, 0 failed/);
      expect(r.exitCode).toBe(0);
    },
    120_000,
  );
});
