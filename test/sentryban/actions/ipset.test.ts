import { describe, expect, it } from '@jest/globals';
import { specFromOptions } from '../../../src/sentryban/actions/options.js';
import type { IpsetSpec } from '../../../src/sentryban/actions/spec.js';
import {
  kernelTimeout,
  planCreates,
  planFillChunks,
  planSetRules,
  planSwapRestore,
  planSwaps,
} from '../../../src/sentryban/actions/ipset/plan.js';
import { parseIpsetSave, planIpsetRepair } from '../../../src/sentryban/actions/ipset/check.js';
import { wantedElements } from '../../../src/sentryban/actions/targets.js';
import { banOf } from './bans.js';

const NOW = 1_700_000_000_000;
const spec = (o: Record<string, string>): IpsetSpec => {
  const r = specFromOptions('ipset', 'sshd', o);
  if (!r.ok || r.value.backend !== 'ipset') throw new Error('spec');
  return r.value;
};

describe('ipset plans (golden)', () => {
  it('restore fills temporary sets in one pass over the bans and swaps them all in at the end', () => {
    const bans = [
      banOf('192.0.2.1', { now: NOW, sec: 600 }),
      banOf('2001:db8::1', { now: NOW, sec: null }),
      banOf('198.51.100.0/24', { now: NOW, sec: 3e7 }),
      banOf('198.51.100.0/25', { now: NOW, sec: 60 }),
      banOf('192.0.2.1', { now: NOW, sec: 300 }),
      banOf('192.0.2.2', { now: NOW, sec: 0 }),
      banOf('192.0.2.3', { now: NOW, sec: 30 }),
      banOf('192.0.2.3', { now: NOW, sec: 90 }),
    ];
    expect(planSwapRestore(spec({ maxelem: '1000' }), bans, NOW))
      .toBe(`create sb-sshd-h4.t hash:ip family inet timeout 0 maxelem 1000
flush sb-sshd-h4.t
create sb-sshd-h6.t hash:ip family inet6 timeout 0 maxelem 1000
flush sb-sshd-h6.t
create sb-sshd-n4.t hash:net family inet timeout 0 maxelem 1000
flush sb-sshd-n4.t
create sb-sshd-n6.t hash:net family inet6 timeout 0 maxelem 1000
flush sb-sshd-n6.t
add sb-sshd-h4.t 192.0.2.1 timeout 600
add sb-sshd-h4.t 192.0.2.3 timeout 30
add sb-sshd-h4.t 192.0.2.3 timeout 90
add sb-sshd-h6.t 2001:db8::1 timeout 0
add sb-sshd-n4.t 198.51.100.0/24 timeout 0
swap sb-sshd-h4.t sb-sshd-h4
destroy sb-sshd-h4.t
swap sb-sshd-h6.t sb-sshd-h6
destroy sb-sshd-h6.t
swap sb-sshd-n4.t sb-sshd-n4
destroy sb-sshd-n4.t
swap sb-sshd-n6.t sb-sshd-n6
destroy sb-sshd-n6.t
`);
    expect(planCreates(spec({ maxelem: '1000' }), ['h6', 'n4'])).toBe(
      'create sb-sshd-h6 hash:ip family inet6 timeout 0 maxelem 1000\n' +
        'create sb-sshd-n4 hash:net family inet timeout 0 maxelem 1000\n',
    );
    expect(kernelTimeout(2147484)).toBe(0);
  });

  it('restore pieces: 5,000 lines of one set each (ipset sends them in one message), the same text as the whole', () => {
    const bans = Array.from({ length: 12000 }, (_, i) =>
      banOf(i % 4 === 0 ? `2001:db8::${i.toString(16)}` : `10.1.${i >> 8}.${i & 255}`, { now: NOW, sec: 900 }),
    );
    const pieces = [...planFillChunks(spec({}), bans, NOW)];
    expect(Buffer.concat(pieces).toString('latin1') + planSwaps(spec({}))).toBe(planSwapRestore(spec({}), bans, NOW));
    const sets = pieces.slice(1, -1).map((p) => {
      const lines = Buffer.from(p).toString('latin1').trimEnd().split('\n');
      return { n: lines.length, sets: [...new Set(lines.map((l) => l.split(' ')[1]))] };
    });
    expect(sets).toEqual([{ n: 5000, sets: ['sb-sshd-h4.t'] }]);
    const last = Buffer.from(pieces.at(-1)!).toString('latin1').trimEnd().split('\n');
    expect(last).toHaveLength(4000 + 3000);
    expect(last.findIndex((l) => l.startsWith('add sb-sshd-h6.t'))).toBe(4000);
  });

  it('one rule per set and protocol in the hook chains', () => {
    expect(planSetRules(spec({ port: 'ssh', protocol: 'tcp' }), 6)).toEqual([
      [
        'INPUT',
        '-p',
        'tcp',
        '-m',
        'multiport',
        '--dports',
        'ssh',
        '-m',
        'set',
        '--match-set',
        'sb-sshd-h6',
        'src',
        '-j',
        'REJECT',
        '--reject-with',
        'icmp6-port-unreachable',
      ],
      [
        'INPUT',
        '-p',
        'tcp',
        '-m',
        'multiport',
        '--dports',
        'ssh',
        '-m',
        'set',
        '--match-set',
        'sb-sshd-n6',
        'src',
        '-j',
        'REJECT',
        '--reject-with',
        'icmp6-port-unreachable',
      ],
    ]);
  });

  it('check: missing added, early-lapsing re-added (-exist updates the timeout), strays deleted', () => {
    const names = new Map([
      ['sb-sshd-h4', 'h4'],
      ['sb-sshd-h6', 'h6'],
      ['sb-sshd-n4', 'n4'],
      ['sb-sshd-n6', 'n6'],
    ] as const);
    const have = parseIpsetSave(
      `create sb-sshd-h4 hash:ip family inet hashsize 1024 maxelem 65536 timeout 0
add sb-sshd-h4 192.0.2.1 timeout 3
add sb-sshd-h4 192.0.2.2 timeout 598
add sb-sshd-h4 192.0.2.50 timeout 100
create other hash:ip family inet
add other 192.0.2.7
`,
      new Map(names),
    );
    const w = wantedElements(
      [banOf('192.0.2.1', { now: NOW }), banOf('192.0.2.2', { now: NOW }), banOf('192.0.2.3', { now: NOW })],
      NOW,
    );
    expect(planIpsetRepair(have, w, (k) => `sb-sshd-${k}`)).toEqual([
      'add sb-sshd-h4 192.0.2.1 timeout 600',
      'add sb-sshd-h4 192.0.2.3 timeout 600',
      'del sb-sshd-h4 192.0.2.50',
    ]);
  });
});
