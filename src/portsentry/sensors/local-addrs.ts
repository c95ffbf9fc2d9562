import { networkInterfaces } from 'node:os';
import type { Clock } from '../../core/clock.js';

// This host's own IPv4 addresses, to tell packets addressed to us from broadcast and multicast ones (the kernel
// hands a raw socket every packet it delivers locally, and a LAN neighbour's NetBIOS or DHCP broadcast is not
// a scan of this host). Re-read every refreshMs, and at most once a second when a destination is unknown, so
// an address added after start is seen within a second.
export class LocalAddrs {
  readonly #clock: Clock;
  readonly #refreshMs: number;
  readonly #read: () => string[];
  #addrs = new Set<string>();
  #readAt = -Infinity;

  constructor(clock: Clock, opts: { refreshMs?: number; read?: () => string[] } = {}) {
    this.#clock = clock;
    this.#refreshMs = opts.refreshMs ?? 5000;
    this.#read = opts.read ?? readIpv4Addrs;
    this.#reload();
  }

  isLocal(dst: string): boolean {
    const now = this.#clock.now();
    if (now - this.#readAt > this.#refreshMs) this.#reload();
    if (this.#addrs.has(dst)) return true;
    if (now - this.#readAt > 1000) {
      this.#reload();
      return this.#addrs.has(dst);
    }
    return false;
  }

  #reload(): void {
    this.#readAt = this.#clock.now();
    try {
      this.#addrs = new Set(this.#read());
    } catch {
      /* keep the last good set */
    }
  }
}

export const readIpv4Addrs = (): string[] =>
  Object.values(networkInterfaces()).flatMap((list) =>
    (list ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address),
  );
