import { describe, expect } from '@jest/globals';
import { formatSoak, runSoak } from '../../bench/soak/lib/soak.js';
import { itReal } from '../helpers/real.js';

// Both daemons under steady probes and log lines for a few seconds (the fast version of `npm run soak soak`,
// 30 min): every probe alerted and followed into a ban, no status query lost, both alive, and every fd given
// back once the load stops. Growth per hour needs the long run; it is printed, not asserted.
const real = itReal({ root: true, commands: ['ip', 'unshare'] });

describe('soak, short', () => {
  real(
    'portsentry and sentryban under load: alive, fds back to their idle count',
    async () => {
      const r = await runSoak({
        durationMs: 20_000,
        sampleMs: 2000,
        warmupMs: 5000,
        idleMs: 2000,
        settleMs: 10_000,
        probeRate: 4,
        lineRate: 200,
        unblockMs: 5000,
        rotateMs: 7000,
      });
      console.log(formatSoak(r).join('\n'));
      expect(r.probes).toBeGreaterThan(40);
      expect(r.alerts).toBe(r.probes);
      expect(r.historyLines).toBeGreaterThan(0);
      expect(r.bans).toBeGreaterThan(0);
      expect(r.statusFailures).toBe(0);
      for (const d of [r.portsentry, r.sentryban]) {
        expect({ name: d.name, alive: d.alive, fds: d.afterFds }).toEqual({
          name: d.name,
          alive: true,
          fds: d.idleFds,
        });
      }
    },
    60_000,
  );
});
