import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAddr, type Addr } from '../core/addr.js';

// This host's defaults, apart from the daemon's module so that the commands needing them (the client verbs,
// `sentryban replay` and its worker) do not load the daemon's (its store, fleet and Redis client: ~0.1 s of CPU).

// The bundled config (sentryban.yaml + jails/ at the package root) unless root has /etc/sentryban.
export const defaultConfigDir = (): string => {
  if (process.getuid?.() === 0 && existsSync('/etc/sentryban/sentryban.yaml')) return '/etc/sentryban';
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
};

// Every address of this host's interfaces (for ignoreself), re-read periodically so it stays current.
export const ownAddrs = (): Addr[] => {
  const out: Addr[] = [];
  for (const list of Object.values(networkInterfaces()))
    for (const i of list ?? []) {
      const a = parseAddr(i.address);
      if (a) out.push(a);
    }
  return out;
};
