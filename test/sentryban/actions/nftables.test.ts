import { describe, expect, it } from '@jest/globals';
import { specFromOptions } from '../../../src/sentryban/actions/options.js';
import type { NftablesSpec } from '../../../src/sentryban/actions/spec.js';
import {
  planBan,
  planCreate,
  planRestore,
  planRestoreBytes,
  planRestoreChunks,
  planUnban,
  planRepair,
} from '../../../src/sentryban/actions/nftables/plan.js';
import { diffElements, needsRebuild, parseNftState } from '../../../src/sentryban/actions/nftables/check.js';
import { wantedElements } from '../../../src/sentryban/actions/targets.js';
import { banOf } from './bans.js';

const NOW = 1_700_000_000_000;
const spec = (o: Record<string, string>): NftablesSpec => {
  const r = specFromOptions('nftables', 'sshd', o);
  if (!r.ok || r.value.backend !== 'nftables') throw new Error('spec');
  return r.value;
};

describe('nftables plans (golden)', () => {
  it('restore: one transaction replacing our table, elements inside their sets with timeouts, one rule per set', () => {
    const bans = [
      banOf('192.0.2.1', { now: NOW, sec: 600 }),
      banOf('2001:db8::1', { now: NOW, sec: null }),
      banOf('198.51.100.0/24', { now: NOW, sec: 60 }),
      banOf('192.0.2.9', { now: NOW - 700_000, sec: 600 }),
    ];
    expect(planRestore(spec({ port: 'ssh,1000:2000', protocol: 'tcp,udp' }), wantedElements(bans, NOW)))
      .toBe(`table inet sentryban-sshd
delete table inet sentryban-sshd
table inet sentryban-sshd {
  set h4 { type ipv4_addr; flags timeout;
    elements = {
      192.0.2.1 timeout 600s
    }
  }
  set h6 { type ipv6_addr; flags timeout;
    elements = {
      2001:db8::1
    }
  }
  set n4 { type ipv4_addr; flags interval,timeout;
    elements = {
      198.51.100.0/24 timeout 60s
    }
  }
  set n6 { type ipv6_addr; flags interval,timeout; }
  chain input {
    type filter hook input priority -1; policy accept;
    meta l4proto { tcp, udp } th dport { ssh, 1000-2000 } ip saddr @h4 reject with icmpx port-unreachable
    meta l4proto { tcp, udp } th dport { ssh, 1000-2000 } ip6 saddr @h6 reject with icmpx port-unreachable
    meta l4proto { tcp, udp } th dport { ssh, 1000-2000 } ip saddr @n4 reject with icmpx port-unreachable
    meta l4proto { tcp, udp } th dport { ssh, 1000-2000 } ip6 saddr @n6 reject with icmpx port-unreachable
  }
}
`);
  });

  it('all ports, all protocols, drop', () => {
    expect(planRestore(spec({ protocol: 'all', blocktype: 'drop' }), [])).toContain('    ip saddr @h4 drop\n');
    expect(planRestore(spec({ blocktype: 'REJECT --reject-with tcp-reset' }), [])).toContain(
      '    meta l4proto tcp ip saddr @h4 reject with tcp reset\n',
    );
  });

  it('ban and unban succeed whether or not the element is there; ban refreshes the timeout', () => {
    const [w] = wantedElements([banOf('2001:db8::5', { now: NOW, sec: 30 })], NOW);
    expect(planBan('t', w!)).toBe(
      'add element inet t h6 { 2001:db8::5 }\ndelete element inet t h6 { 2001:db8::5 }\nadd element inet t h6 { 2001:db8::5 timeout 30s }\n',
    );
    expect(planUnban('t', 'h4', '192.0.2.1')).toBe(
      'add element inet t h4 { 192.0.2.1 }\ndelete element inet t h4 { 192.0.2.1 }\n',
    );
  });

  it('a batch of new elements: one create per set, with timeouts', () => {
    const ws = wantedElements(
      [
        banOf('192.0.2.1', { now: NOW, sec: 30 }),
        banOf('2001:db8::5', { now: NOW, sec: 30 }),
        banOf('192.0.2.2', { now: NOW, sec: null }),
        banOf('198.51.100.0/24', { now: NOW, sec: 30 }),
      ],
      NOW,
    );
    expect(planCreate('t', ws)).toBe(
      'create element inet t h4 { 192.0.2.1 timeout 30s, 192.0.2.2 }\n' +
        'create element inet t h6 { 2001:db8::5 timeout 30s }\n' +
        'create element inet t n4 { 198.51.100.0/24 timeout 30s }\n',
    );
  });

  it('large restores come in pieces of one block: every prefix of the input short of the whole is refused', () => {
    const bans = Array.from({ length: 12000 }, (_, i) =>
      banOf(i % 5 ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : `2001:db8::${i.toString(16)}`, { now: NOW }),
    );
    const pieces = [...planRestoreChunks(spec({}), wantedElements(bans, NOW))];
    expect(pieces.join('')).toBe(planRestore(spec({}), wantedElements(bans, NOW)));
    expect(pieces.length).toBeGreaterThan(3);
    // The first piece deletes the old table and opens the new one; braces close only at the very end, so nft sees
    // an unfinished block (a syntax error: nothing committed) wherever a cut input ends.
    expect(pieces[0]).toBe(
      'table inet sentryban-sshd\ndelete table inet sentryban-sshd\ntable inet sentryban-sshd {\n',
    );
    let depth = 0;
    const whole = pieces.join('');
    for (let i = whole.indexOf('{'); i < whole.length; i++) {
      if (whole[i] === '{') depth++;
      if (whole[i] === '}') depth--;
      if (depth === 0) expect(whole.slice(i + 1)).toBe('\n');
      if (depth === 0) break;
    }
    const elements = whole.match(/(\d+\.\d+\.\d+\.\d+|2001:db8::[0-9a-f]*) timeout 600s/g) ?? [];
    expect(elements).toHaveLength(12000);
  });

  it('restore as bytes from the bans: the same input as the element list, byte for byte, whatever the mix', () => {
    const max = 31536000;
    const same = (sp: NftablesSpec, bans: Parameters<typeof wantedElements>[0]): void => {
      const bytes = planRestoreBytes(sp, bans, NOW, max);
      expect(bytes).not.toBeNull();
      expect(Buffer.concat(bytes!).toString('latin1')).toBe(planRestore(sp, wantedElements(bans, NOW, max)));
    };
    same(spec({}), []);
    same(spec({ port: 'ssh', protocol: 'tcp,udp', blocktype: 'drop' }), [
      banOf('192.0.2.1', { now: NOW, sec: 600 }),
      banOf('2001:db8::1', { now: NOW, sec: null }), // permanent: no timeout
      banOf('198.51.100.0/24', { now: NOW, sec: 60 }),
      banOf('198.51.100.128/25', { now: NOW, sec: 60 }), // covered by the /24: left out
      banOf('192.0.2.9', { now: NOW - 700_000, sec: 600 }), // over
      banOf('192.0.2.10', { now: NOW, sec: 500_000_000 }), // longer than nft takes: no timeout
      banOf('::ffff:192.0.2.11', { now: NOW, sec: 1 }), // an IPv4 host
      banOf('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', { now: NOW, sec: 9_999_999 }),
      banOf('2001:db8::/48', { now: NOW, sec: null }),
    ]);
    // Several lines per set (CHUNK 5,000), both families, one set filled to a whole number of lines.
    const many = Array.from({ length: 23000 }, (_, i) =>
      banOf(i % 4 ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : `2001:db8::${i.toString(16)}`, {
        now: NOW,
        sec: 1 + (i % 7000),
      }),
    );
    same(spec({}), many);
    same(
      spec({}),
      many.slice(0, 20000).filter((_, i) => i % 4 === 0),
    ); // IPv6 hosts only: 5,000, one whole line
  });

  it('restore as bytes: a host met twice gives null (the caller takes the element list, which keeps the longest)', () => {
    const twice = [banOf('192.0.2.1', { now: NOW, sec: 5 }), banOf('192.0.2.1', { now: NOW, sec: 50 })];
    expect(planRestoreBytes(spec({}), twice, NOW, 31536000)).toBeNull();
    const v6 = [banOf('2001:db8::1', { now: NOW }), banOf('2001:db8:0::1', { now: NOW })];
    expect(planRestoreBytes(spec({}), v6, NOW, 31536000)).toBeNull();
    // Met again only once over (expired): not a repeat.
    const over = [banOf('192.0.2.1', { now: NOW - 700_000 }), banOf('192.0.2.1', { now: NOW })];
    expect(planRestoreBytes(spec({}), over, NOW, 31536000)).not.toBeNull();
  });

  it('prefixes inside a wider banned prefix are left out (interval sets refuse overlaps); duplicates keep the longest', () => {
    const w = wantedElements(
      [
        banOf('10.0.0.0/8', { now: NOW }),
        banOf('10.1.0.0/16', { now: NOW }),
        banOf('10.2.3.4', { now: NOW, sec: 5 }),
        banOf('10.2.3.4', { now: NOW, sec: 50 }),
      ],
      NOW,
    );
    expect(w).toEqual([
      { key: 'n4', elem: '10.0.0.0/8', timeoutSec: 600 },
      { key: 'h4', elem: '10.2.3.4', timeoutSec: 50 },
    ]);
  });
});

describe('wantedElements: covered prefixes', () => {
  it('keeps exactly the prefixes no wider kept prefix contains (against a pairwise check), both families', () => {
    const texts: string[] = [];
    for (let i = 0; i < 400; i++) {
      const a = (i * 37) % 8;
      const b = (i * 11) % 16;
      texts.push(
        [`10.${a}.0.0/16`, `10.${a}.${b}.0/24`, `10.${a}.${b}.128/25`, `10.${a}.${b}.7/32`][i % 4]!,
        [`2001:db8:${a}::/48`, `2001:db8:${a}:${b}::/64`, `2001:db8:${a + 8}:${b}::/64`][i % 3]!,
      );
    }
    texts.push('10.0.0.0/8', '2001:db8::/32');
    const bans = texts.map((t, i) => banOf(t, { now: NOW, sec: 60 + (i % 50) }));
    const got = wantedElements(bans, NOW).map((w) => w.elem);
    // The reference: dedupe, then drop every prefix strictly inside another prefix of the list.
    const nets = [...new Set(bans.map((b) => b.target))].filter((t) => !t.isHost());
    const uniq = [...new Map(nets.map((t) => [t.text, t])).values()];
    const inside = (t: (typeof uniq)[number]) =>
      uniq.some((k) => k.text !== t.text && k.bits <= t.bits && k.contains(t.base));
    const hosts = [...new Set(bans.filter((b) => b.target.isHost()).map((b) => b.target.base.text))];
    const want = [...uniq.filter((t) => !inside(t)).map((t) => t.text), ...hosts];
    expect(new Set(got)).toEqual(new Set(want));
    expect(got).toHaveLength(new Set(got).size);
    expect(got).toContain('10.0.0.0/8');
    expect(got).toContain('2001:db8::/32');
  });
});

describe('nftables check (diff against nft -j)', () => {
  const listing = (elems: unknown[], rules = 4) =>
    JSON.stringify({
      nftables: [
        { table: { family: 'inet', name: 't' } },
        { set: { name: 'h4', elem: elems } },
        { set: { name: 'h6' } },
        {
          set: {
            name: 'n4',
            elem: [{ elem: { val: { prefix: { addr: '198.51.100.0', len: 24 } }, timeout: 60, expires: 59 } }],
          },
        },
        { set: { name: 'n6' } },
        { chain: { name: 'input', hook: 'input' } },
        ...Array.from({ length: rules }, () => ({ rule: { chain: 'input' } })),
      ],
    });

  it('adds missing, refreshes elements lapsing early, removes strays', () => {
    const st = parseNftState(
      listing([
        '192.0.2.50',
        { elem: { val: '192.0.2.1', timeout: 600, expires: 10 } },
        { elem: { val: '192.0.2.2', timeout: 600, expires: 598 } },
      ]),
    );
    expect(needsRebuild(st)).toBe(false);
    const wanted = wantedElements(
      [
        banOf('192.0.2.1', { now: NOW }),
        banOf('192.0.2.2', { now: NOW }),
        banOf('192.0.2.3', { now: NOW }),
        banOf('198.51.100.0/24', { now: NOW, sec: 60 }),
      ],
      NOW,
    );
    const d = diffElements(st, wanted);
    expect(d.add.map((w) => w.elem)).toEqual(['192.0.2.1', '192.0.2.3']);
    expect(d.remove).toEqual([
      { key: 'h4', elem: '192.0.2.1' },
      { key: 'h4', elem: '192.0.2.50' },
    ]);
    expect(planRepair('t', d.add, d.remove)).toBe(
      'add element inet t h4 { 192.0.2.1, 192.0.2.50 }\ndelete element inet t h4 { 192.0.2.1, 192.0.2.50 }\n' +
        'add element inet t h4 { 192.0.2.1 timeout 600s, 192.0.2.3 timeout 600s }\n',
    );
  });

  it('a missing rule or set means a rebuild', () => {
    expect(needsRebuild(parseNftState(listing([], 3)))).toBe(true);
    expect(needsRebuild(parseNftState(JSON.stringify({ nftables: [] })))).toBe(true);
  });
});

describe('nftables kernel timeout cap', () => {
  it('a ban longer than nft takes gets no kernel timeout (the store ends it)', () => {
    expect(wantedElements([banOf('192.0.2.1', { now: NOW, sec: 40_000_000 })], NOW, 31536000)).toEqual([
      { key: 'h4', elem: '192.0.2.1', timeoutSec: null },
    ]);
    expect(wantedElements([banOf('192.0.2.1', { now: NOW, sec: 30_000_000 })], NOW, 31536000)).toEqual([
      { key: 'h4', elem: '192.0.2.1', timeoutSec: 30_000_000 },
    ]);
  });
});
