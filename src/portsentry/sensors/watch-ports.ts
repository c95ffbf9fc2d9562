import * as L from '../lines.js';

// Which destination ports a stealth or advanced sensor watches, decided once at start from the config and a
// bind test, with the startup lines 1.2 logs on the way. Pure: the bind test result arrives as a set.
export type WatchProto = 'tcp' | 'udp';

export type WatchPlan = {
  // Startup lines in 1.2's order.
  lines: string[];
  isHot(port: number): boolean;
  // Set when 1.2 would refuse to start: the line to log before shutting down.
  fatal?: string;
};

const PROTO = { tcp: 'TCP', udp: 'UDP' } as const;

// -stcp / -sudp: the configured list minus ports a daemon already holds at start.
export const planStealthWatch = (
  proto: WatchProto,
  ports: readonly number[],
  inUse: ReadonlySet<number>,
): WatchPlan => {
  const P = PROTO[proto];
  if (ports.length === 0) return { lines: [], isHot: () => false, fatal: L.noPortsSupplied(P) };
  const lines: string[] = [];
  const watched = new Set<number>();
  for (const port of ports) {
    lines.push(L.stealthListening(P, port));
    if (inUse.has(port)) lines.push(L.socketInUse(port));
    else watched.add(port);
  }
  if (watched.size === 0) {
    return { lines, isHot: () => false, fatal: L.allSocketsInUse(P) };
  }
  return { lines, isHot: (port) => watched.has(port) };
};

export type AdvancedConfig = {
  // ADVANCED_PORTS_x as atoi() read it; null when the key is absent (1.2 then assumes 1024).
  advancedPorts: number | null;
  // ADVANCED_EXCLUDE_x items; null when the key is absent.
  exclude: readonly number[] | null;
};

// -atcp / -audp: every port below ADVANCED_PORTS_x except those in use at start and ADVANCED_EXCLUDE_x.
// inUse must hold the ports (below the limit) whose bind test failed.
export const planAdvancedWatch = (proto: WatchProto, cfg: AdvancedConfig, inUse: ReadonlySet<number>): WatchPlan => {
  const P = PROTO[proto];
  const lines: string[] = [];
  if (cfg.advancedPorts === null) lines.push(L.noAdvancedPorts(P));
  const limit = cfg.advancedPorts ?? 1024;
  lines.push(L.advancedMonitor(limit));
  const ignored = [...inUse].filter((p) => p >= 0 && p < limit).sort((a, b) => a - b);
  if (cfg.exclude === null) lines.push(L.advancedExcludeNone());
  for (const port of cfg.exclude ?? []) {
    lines.push(L.advancedExclude(port));
    ignored.push(port);
  }
  for (const port of ignored) lines.push(L.advancedIgnored(P, port));
  const cold = new Set(ignored);
  return { lines, isHot: (port) => port < limit && !cold.has(port) };
};
