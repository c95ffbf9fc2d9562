import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replayCase } from './replay.js';

// Every folder of test/fixtures/jails is a case: jail.yaml, input.log (timestamped), expected.json. Each runs
// through the daemon's BanManager, store and a hosts.deny backend (replay.ts).
const root = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/jails');
const cases = readdirSync(root).sort();

describe("jail cases replayed on the lines' own timestamps", () => {
  it('has the cases the issue asks for', () => {
    for (const c of [
      'maxretry-boundary',
      'findtime-sliding',
      'increment-formula',
      'increment-multipliers',
      'ignoreip-v4-v6',
      'ignoreself',
      'permanent',
      'ipv6-prefix-escalate',
    ])
      expect(cases).toContain(c);
  });
  for (const c of cases) {
    it(c, async () => {
      const expected = JSON.parse(readFileSync(join(root, c, 'expected.json'), 'utf8')) as unknown;
      const r = await replayCase(join(root, c));
      expect(r.rows).toEqual(expected);
      // One table says what is banned now: the store and the firewall agree with it, and a restart restores each
      // ban in force exactly once.
      expect(r.atEnd.store).toEqual(r.atEnd.manager);
      expect(r.atEnd.hostsDeny).toEqual(r.atEnd.manager);
      expect(r.afterRestart).toEqual({ ...r.atEnd, restored: r.atEnd.manager.length });
    });
  }
});
