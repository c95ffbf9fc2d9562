import type { Addr } from '../core/addr.js';
import type { Clock } from '../core/clock.js';
import { ownAddresses } from './ignore.js';

// The host's own addresses for "never block yourself", kept current off the probe path. Reading them
// (os.networkInterfaces, a netlink dump, plus parsing) cost ~35-55 us on a quiet machine and ~240 us median on the
// alert path inside the stealth latency bench, between the alert and KILL_ROUTE. So a timer re-reads them every
// refreshMs and the pipeline only takes the latest list. If the timer is held up (a busy event loop), get() reads
// at once when the list is older than maxAgeMs: an address added to an interface counts within maxAgeMs, always.
export type OwnAddressOptions = { refreshMs?: number; maxAgeMs?: number; read?: () => Addr[] };

export class OwnAddressWatch {
  readonly #clock: Clock;
  readonly #refreshMs: number;
  readonly #maxAgeMs: number;
  readonly #read: () => Addr[];
  #list: Addr[] = [];
  #at = -Infinity;
  #cancel: (() => void) | null = null;
  #stopped = false;

  constructor(clock: Clock, opts: OwnAddressOptions = {}) {
    this.#clock = clock;
    this.#refreshMs = opts.refreshMs ?? 100;
    this.#maxAgeMs = opts.maxAgeMs ?? 250;
    this.#read = opts.read ?? ownAddresses;
    this.#tick();
  }

  // The latest list; read now only if it is older than maxAgeMs (or the clock went back).
  readonly get = (): Addr[] => {
    const age = this.#clock.now() - this.#at;
    if (age > this.#maxAgeMs || age < 0) this.#reload();
    return this.#list;
  };

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = null;
  }

  #reload(): void {
    try {
      this.#list = this.#read();
    } catch {
      /* keep the last good list */
    }
    this.#at = this.#clock.now();
  }

  #tick(): void {
    this.#reload();
    if (!this.#stopped) this.#cancel = this.#clock.at(this.#clock.now() + this.#refreshMs, () => this.#tick());
  }
}
