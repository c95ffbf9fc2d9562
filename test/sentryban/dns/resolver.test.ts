import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../../src/core/clock.js';
import { HostResolver, type LookupFn } from '../../../src/sentryban/dns/resolver.js';

// The resolver's own logic (cache, TTL, coalescing, in-flight bound, timeout) over a lookup edge the test answers
// by hand; the real getaddrinfo path is system-resolver.real.test.ts.
type Call = { name: string; answer: (addrs: string[]) => void; refuse: (code: string) => void };
const edge = (): { lookup: LookupFn; calls: Call[] } => {
  const calls: Call[] = [];
  const lookup: LookupFn = (name) =>
    new Promise((res, rej) => {
      calls.push({ name, answer: res, refuse: (code) => rej(Object.assign(new Error(code), { code })) });
    });
  return { lookup, calls };
};
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('HostResolver', () => {
  it('caches answers for the TTL, failures for the negative TTL, and shares one lookup per name', async () => {
    const clock = new ManualClock(1_000_000);
    const { lookup, calls } = edge();
    const r = new HostResolver({ clock, lookup, ttlMs: 60_000, negativeTtlMs: 5_000 });
    const a = r.resolve('host.example');
    const b = r.resolve('host.example');
    expect(calls.map((c) => c.name)).toEqual(['host.example']);
    calls[0]!.answer(['192.0.2.5', '2001:DB8::5', '192.0.2.5', '::ffff:192.0.2.6']);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.addrs.map((x) => x.text)).toEqual(['192.0.2.5', '192.0.2.6', '2001:db8::5']); // v4 first, unique, mapped unwrapped
    expect(rb).toBe(ra);
    expect(r.peek('host.example')?.cached).toBe(true);
    clock.advance(59_999);
    expect((await r.resolve('host.example')).cached).toBe(true);
    clock.advance(1);
    expect(r.peek('host.example')).toBeNull();
    void r.resolve('host.example');
    expect(calls).toHaveLength(2);

    const bad = r.resolve('nx.example');
    calls[2]!.refuse('ENOTFOUND');
    expect(await bad).toEqual({ name: 'nx.example', addrs: [], error: 'ENOTFOUND', cached: false });
    expect((await r.resolve('nx.example')).cached).toBe(true);
    clock.advance(5_000);
    void r.resolve('nx.example');
    expect(calls).toHaveLength(4);
    expect(r.lookups).toBe(4);
  });

  it('keeps at most maxInFlight lookups running; a timed-out lookup keeps its slot until it returns', async () => {
    const clock = new ManualClock(0);
    const { lookup, calls } = edge();
    const r = new HostResolver({ clock, lookup, maxInFlight: 2, timeoutMs: 1000 });
    const p1 = r.resolve('a.example');
    const p2 = r.resolve('b.example');
    const p3 = r.resolve('c.example');
    await flush();
    expect(calls.map((c) => c.name)).toEqual(['a.example', 'b.example']);
    expect(r.inFlight).toBe(2);
    clock.advance(1000);
    expect((await p1).error).toBe('timed out after 1000 ms');
    expect((await p2).error).toBe('timed out after 1000 ms');
    expect((await p3).error).toBe('timed out after 1000 ms (waiting for a free lookup slot)');
    // The two getaddrinfo calls still hold their threads: nothing new starts until one returns.
    void r.resolve('d.example');
    await flush();
    expect(calls).toHaveLength(2);
    calls[0]!.answer(['192.0.2.1']);
    await flush();
    expect(calls.map((c) => c.name)).toEqual(['a.example', 'b.example', 'd.example']);
    expect(r.inFlight).toBe(2);
    // The late answer for a.example was not cached over its timeout result.
    expect(r.peek('a.example')?.addrs).toEqual([]);
  });

  it('refuses names at once when too many are waiting, and bounds the cache', async () => {
    const clock = new ManualClock(0);
    const { lookup, calls } = edge();
    const r = new HostResolver({ clock, lookup, maxInFlight: 1, maxQueued: 1, maxEntries: 3 });
    void r.resolve('a.example');
    void r.resolve('b.example');
    expect(await r.resolve('c.example')).toMatchObject({ addrs: [], error: 'resolver busy (too many names waiting)' });
    calls[0]!.answer(['192.0.2.1']);
    await flush();
    calls[1]!.answer(['192.0.2.2']);
    await flush();
    for (const n of ['d', 'e', 'f']) {
      const p = r.resolve(`${n}.example`);
      await flush();
      calls.at(-1)!.answer(['192.0.2.9']);
      await p;
    }
    expect(r.size).toBe(3);
    expect(r.peek('a.example')).toBeNull();
    expect(r.peek('f.example')?.addrs.map((a) => a.text)).toEqual(['192.0.2.9']);
  });
});
