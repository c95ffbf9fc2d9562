import type { Fields } from './fields.js';
import type { YNode } from './yaml-tree.js';

// The resolver behind usedns yes/warn (one per daemon).
export type DnsConfig = {
  maxEntries: number;
  ttlMs: number;
  negativeTtlMs: number;
  timeoutMs: number;
  maxInFlight: number;
  maxQueued: number;
};
export const DNS_KEYS = ['cache', 'ttl', 'negative_ttl', 'timeout', 'lookups', 'queue'] as const;

export const readDns = (f: Fields, node: YNode | undefined): DnsConfig => {
  const m = node ? f.map(node, 'dns', DNS_KEYS) : new Map<string, YNode>();
  return {
    maxEntries: f.int(m.get('cache'), 'dns.cache', 1000, 1),
    ttlMs: f.duration(m.get('ttl'), 'dns.ttl', 300) * 1000,
    negativeTtlMs: f.duration(m.get('negative_ttl'), 'dns.negative_ttl', 60) * 1000,
    timeoutMs: Math.max(1, f.duration(m.get('timeout'), 'dns.timeout', 5)) * 1000,
    maxInFlight: f.int(m.get('lookups'), 'dns.lookups', 2, 1),
    maxQueued: f.int(m.get('queue'), 'dns.queue', 1000, 0),
  };
};
