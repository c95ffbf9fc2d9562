import { describe, expect, it } from '@jest/globals';
import { parseAddr, parseCidr } from '../../../src/core/addr.js';
import { ActiveBans, banKey } from '../../../src/sentryban/jails/active-bans.js';
import { banOf } from '../actions/bans.js';

// The one table of bans in force (the manager's, through the jail cases: cases.test.ts and daemon/ban-table).
const addr = (t: string) => parseAddr(t)!;

describe('ActiveBans', () => {
  it('holds one ban per jail and target, in the order they were banned', () => {
    const t = new ActiveBans();
    expect(t.add(banOf('192.0.2.1', { jail: 'a' }))).toBe(true);
    expect(t.add(banOf('192.0.2.2', { jail: 'b' }))).toBe(true);
    expect(t.add(banOf('192.0.2.1', { jail: 'b', sec: null }))).toBe(true);
    expect(t.add(banOf('192.0.2.1', { jail: 'a', sec: 5 }))).toBe(false);
    expect(t.list(null).map((b) => banKey(b.jail, b.target.text))).toEqual([
      'a\t192.0.2.1/32',
      'b\t192.0.2.2/32',
      'b\t192.0.2.1/32',
    ]);
    expect(t.list('b').map((b) => b.target.text)).toEqual(['192.0.2.2/32', '192.0.2.1/32']);
    expect(t.byKey('a\t192.0.2.1/32')?.bantimeSec).toBe(600);
    expect(t.remove('a', '192.0.2.1/32')?.jail).toBe('a');
    expect(t.remove('a', '192.0.2.1/32')).toBeUndefined();
    expect([t.count('a'), t.count('b'), t.count('none')]).toEqual([0, 2, 0]);
    // in force: an end not yet reached, or none
    expect(t.inForce(null, 1_700_000_000_000 + 600_000).map((b) => b.target.text)).toEqual(['192.0.2.1/32']);
  });

  it("a jail's part sees later changes, and finds the subnet ban covering an address until it is lifted", () => {
    const t = new ActiveBans();
    const view = t.of('sshd');
    t.add(banOf('192.0.2.7'));
    t.add(banOf('198.51.100.0/24'));
    t.add(banOf('203.0.113.0/24', { jail: 'other' }));
    expect(view.get('192.0.2.7/32')?.target.text).toBe('192.0.2.7/32');
    expect(view.covering(addr('198.51.100.9'), '198.51.100.9/32')?.target.text).toBe('198.51.100.0/24');
    expect(view.covering(addr('203.0.113.9'), '203.0.113.9/32')).toBeUndefined(); // another jail's
    expect(view.inside(parseCidr('192.0.2.0/24')!)).toBe(1);
    expect(view.inside(parseCidr('198.51.100.0/24')!)).toBe(0); // not narrower than itself
    t.remove('sshd', '198.51.100.0/24');
    expect(view.covering(addr('198.51.100.9'), '198.51.100.9/32')).toBeUndefined();
  });
});
