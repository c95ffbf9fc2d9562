import { describe, expect } from '@jest/globals';
import { formatFigures, runCrashStorm } from '../../bench/soak/lib/crash-storm.js';
import { itReal } from '../helpers/real.js';

// crash-storm, small: 5 kill -9 of the real daemon (nftables in a namespace it creates and deletes) at seeded
// random moments of a burst of 1,000 bans from a followed log that keeps growing; then a final restart.
// The full size (50 kills, 10,000 bans) is `npm run soak crash-storm`. Needs `npm run build` (bin/ runs dist/).
const it = itReal({ root: true, commands: ['nft', 'ip'] });

describe('crash-storm (kill -9 during a ban burst, nftables)', () => {
  it('loses no ban, duplicates none, bans nobody else, counts every line once', async () => {
    const f = await runCrashStorm({ bans: 1000, kills: 5, seed: 12, msPerKill: 2000 });
    process.stdout.write(`${formatFigures(f)}\n`);
    expect(f.kills).toBe(5);
    const { bansLost, duplicates, wronglyBanned, linesLost, linesDoubled } = f;
    expect({ bansLost, duplicates, wronglyBanned, linesLost, linesDoubled }).toEqual({
      bansLost: 0,
      duplicates: 0,
      wronglyBanned: 0,
      linesLost: 0,
      linesDoubled: 0,
    });
  }, 120_000);
});
