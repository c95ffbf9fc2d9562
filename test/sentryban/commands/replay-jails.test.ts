import { describe, expect, it } from '@jest/globals';
import { ReplayJails } from '../../../src/sentryban/commands/replay-jails.js';
import { parseAddr } from '../../../src/core/addr.js';
import type { Failure } from '../../../src/sentryban/types.js';
import { loadJailYaml } from '../../helpers/jail.js';

const JAIL =
  'probe:\n  failregex: ["^x <HOST>$"]\n  logpath: /dev/null\n  maxretry: 5\n  findtime: 10m\n  bantime: 1h\n';
const T0 = Date.UTC(2026, 11, 6);

const failure = (n: number, at: number): Failure => {
  const id = `198.51.${(n >> 8) & 255}.${n & 255}`;
  return { id, addr: parseAddr(id), time: at, filter: 'probe', source: 'a.log', lines: [`x ${id}`], groups: {} };
};

// A long log of addresses that each fail once: what the replay keeps must follow findtime, not the log's length.
describe('ReplayJails', () => {
  it('forgets addresses no later failure can reach: counting state stays within three findtimes of log time', () => {
    const jails = new ReplayJails([loadJailYaml(JAIL, '/')], { emit: () => undefined, self: [] });
    const n = 20_000; // one failure a second: 5.5 h of log, 33 findtimes
    for (let i = 0; i < n; i++) {
      const at = T0 + i * 1000;
      jails.advance(at);
      void jails.line('probe', { failures: [failure(i, at)], ref: { source: 'a.log', line: i + 1, text: '' } });
    }
    const { tickets, kept } = jails.counting('probe');
    expect(tickets).toBeGreaterThanOrEqual(600); // the last findtime's addresses are still counted
    expect(tickets).toBeLessThanOrEqual(1800); // never more than 3 findtimes' worth (forgotten once per findtime)
    expect(kept).toBe(tickets);
    expect(jails.tallies()[0]?.failures).toBe(n);
  });
});
