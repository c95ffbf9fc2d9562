import { describe, expect, it } from '@jest/globals';
import { formatStorm, runRotationStorm } from '../../bench/soak/lib/rotation-storm.js';

// Rotation storm, fast size (the full size is `npm run soak rotation-storm`): a writer process appends 100,000
// numbered lines as fast as it can while a rotator process does 20 rotations, rename+create and copytruncate
// mixed, at seeded moments; the daemon's file follower (JailSources) reads along. Every line present in some
// file at the end (log, log.1 .. log.20) is yielded exactly once; lines copytruncate itself lost (written between
// its copy and its truncate) are reported, not counted as missed. Needs no root: temp files only.
describe('rotation storm', () => {
  it('misses no line and reads none twice through 20 rotations during 100,000 lines', async () => {
    const r = await runRotationStorm({ lines: 100_000, rotations: 20, seed: 12 });
    console.log(formatStorm(r));
    expect(r.written).toBe(100_000);
    expect(r.rotations.done).toBe(20);
    expect(r.rotations.renames).toBeGreaterThan(0);
    expect(r.rotations.copytruncates).toBeGreaterThan(0);
    expect({ missed: r.missedSample, duplicated: r.duplicatedSample, malformed: r.malformed }).toEqual({
      missed: [],
      duplicated: [],
      malformed: 0,
    });
    expect(r.inFiles + r.lostByCopytruncate).toBe(100_000);
  }, 60_000);
});
