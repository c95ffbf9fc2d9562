import { parseAddr } from '../../../src/core/addr.js';

// The log of the crash-storm case: lines whose counting can be checked one by one.
// Every line carries a unique sequence number (seq=N); with maxretry 2, each address meant to be banned appears
// on exactly two lines, some way apart (so kills fall between them), and each decoy address on one line only (a
// decoy banned means a line was counted twice). Addresses: the three IPv4 documentation /24s (.1-.254: 762
// addresses) first, then 2001:db8:5::/48 hosts: 10,000 distinct IPv4 documentation addresses do not exist.
export type StormLine = { seq: number; addr: string; text: (iso: string) => string };
export type StormPlan = { lines: StormLine[]; banned: string[]; decoys: string[] };

export const FAILREGEX = 'auth failure from <HOST> seq=\\d+$';
export const seqOf = (line: string): number | null => {
  const m = / seq=(\d+)$/.exec(line);
  return m ? Number(m[1]) : null;
};

// mulberry32: small, seeded, the same sequence on every machine.
export const rng = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const V4 = ['198.51.100', '203.0.113', '192.0.2'];
export const stormAddr = (i: number): string => {
  if (i < V4.length * 254) return `${V4[Math.floor(i / 254)] as string}.${(i % 254) + 1}`;
  const n = i - V4.length * 254 + 1;
  const text = `2001:db8:5::${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  return parseAddr(text)?.text as string; // canonical, as the store and nft print it
};

// `bans` addresses twice each, `bans / 10` decoys once each. The second line of an address comes `gap` first
// lines after its first one. Addresses are shuffled (seeded) so IPv4 and IPv6 mix.
export const planStorm = (bans: number, random: () => number, gap = 200): StormPlan => {
  const nDecoys = Math.floor(bans / 10);
  const all = Array.from({ length: bans + nDecoys }, (_, i) => stormAddr(i));
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j] as string, all[i] as string];
  }
  const banned = all.slice(0, bans);
  const decoys = all.slice(bans);
  const lines: StormLine[] = [];
  const push = (addr: string): void => {
    const seq = lines.length + 1;
    lines.push({ seq, addr, text: (iso) => `${iso} auth failure from ${addr} seq=${seq}\n` });
  };
  for (let i = 0; i < bans + gap; i++) {
    if (i < bans) push(banned[i] as string);
    if (i >= gap) push(banned[i - gap] as string);
    if (i % 10 === 5 && i / 10 < nDecoys) push(decoys[Math.floor(i / 10)] as string);
  }
  return { lines, banned, decoys };
};
