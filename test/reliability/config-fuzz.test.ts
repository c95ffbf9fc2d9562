import { describe, expect, it } from '@jest/globals';
import { fuzz, PARSERS, type Parser } from '../../bench/soak/lib/config-fuzz.js';
import { hasCommand } from '../helpers/real.js';

// The config-fuzz case, short and seed-pinned (bench/soak/config-fuzz.ts runs each loader for minutes): no
// exception escapes a loader, and every refusal names a file and a line >= 1. Times are the bench's business.
const RUNS: Record<string, number> = {
  'portsentry.conf': 1000,
  'sentryban YAML': 80,
  'fail2ban filter': 120,
  'fail2ban jails': 30,
};
const SEED = 20261206;

describe('config fuzzing (seed-pinned)', () => {
  for (const [i, name] of Object.keys(RUNS).entries()) {
    // the fail2ban loaders read Debian's stock files (/etc/fail2ban), installed with fail2ban
    const skip = name.startsWith('fail2ban') && !hasCommand('fail2ban-regex') && process.env.CI !== 'true';
    const run = skip ? it.skip : it;
    run(
      `${name}: no crash, every refusal at file:line`,
      async () => {
        const make = PARSERS[i] as () => Parser | Promise<Parser>;
        const s = await fuzz(make(), { seed: SEED, numRuns: RUNS[name] });
        expect(s.parser).toBe(name);
        expect(s.findings.filter((f) => f.kind !== 'hang')).toEqual([]);
        expect(s.runs).toBe(RUNS[name]);
        expect(s.refused).toBeGreaterThan(0); // the inputs do reach the refusals
        expect(s.refused).toBeLessThan(s.runs); // and some load
      },
      60_000,
    );
  }
});
