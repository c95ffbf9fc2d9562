// Which destination ports a stealth or advanced sensor watches, decided once at start from the config and a
// bind test, with the startup lines 1.2 logs on the way. Pure: the bind test result arrives as a set.
export type WatchProto = 'tcp' | 'udp';

export type WatchPlan = {
  // Startup lines in 1.2's order (without the trailing newline some format strings carry).
  lines: string[];
  isHot(port: number): boolean;
  // Set when 1.2 would refuse to start: the line to log before shutting down.
  fatal?: string;
};

const PROTO = { tcp: 'TCP', udp: 'UDP' } as const;

// -stcp / -sudp: the configured list minus ports a daemon already holds at start.
export const planStealthWatch = (proto: WatchProto, ports: readonly number[], inUse: ReadonlySet<number>): WatchPlan => {
  const P = PROTO[proto];
  if (ports.length === 0) return { lines: [], isHot: () => false, fatal: `adminalert: ERROR: No ${P} ports supplied in config file. Aborting` };
  const lines: string[] = [];
  const watched = new Set<number>();
  for (const port of ports) {
    lines.push(`adminalert: Going into stealth listen mode on ${P} port: ${port}`);
    if (inUse.has(port)) lines.push(`adminalert: ERROR: Socket ${port} is in use and will not be monitored. Attempting to continue`);
    else watched.add(port);
  }
  if (watched.size === 0) {
    return { lines, isHot: () => false, fatal: `adminalert: ERROR: All supplied ${P} sockets are in use and will not be listened to. Shutting down.` };
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
  if (cfg.advancedPorts === null) lines.push(`adminalert: ERROR: Could not read ADVANCED_PORTS_${P} option from config file. Assuming 1024.`);
  const limit = cfg.advancedPorts ?? 1024;
  lines.push(`adminalert: Advanced mode will monitor first ${limit} ports`);
  const ignored = [...inUse].filter((p) => p >= 0 && p < limit).sort((a, b) => a - b);
  if (cfg.exclude === null) lines.push('adminalert: Advanced mode will manually exclude no ports');
  for (const port of cfg.exclude ?? []) {
    lines.push(`adminalert: Advanced mode will manually exclude port: ${port} `);
    ignored.push(port);
  }
  for (const port of ignored) lines.push(`adminalert: Advanced Stealth scan detection mode activated. Ignored ${P} port: ${port}`);
  const cold = new Set(ignored);
  return { lines, isHot: (port) => port < limit && !cold.has(port) };
};
