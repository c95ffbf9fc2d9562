import type { Clock } from '../../core/clock.js';
import * as L from '../lines.js';

// Probes the raw sensor's admission refuses (backlog full, or their source already has probes waiting) get no
// detection line: bounded memory comes first under a flood. They are never dropped silently, though: the first
// refusal logs one line, and once none came for quietMs, one more line says how many and over how long. Two lines
// per episode, whatever the flood's size, so the log itself stays bounded.
export class RefusalNotice {
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #quietMs: number;
  readonly #max: number;
  #count = 0;
  #since = 0;
  #last = 0;
  #cancel: (() => void) | null = null;

  constructor(clock: Clock, log: (line: string) => void, max: number, quietMs = 1000) {
    this.#clock = clock;
    this.#log = log;
    this.#max = max;
    this.#quietMs = quietMs;
  }

  refused(): void {
    const now = this.#clock.now();
    if (this.#count === 0) {
      this.#since = now;
      this.#log(L.probesRefused(this.#max));
      this.#arm(now);
    }
    this.#count++;
    this.#last = now;
  }

  // Logs the episode still open (at shutdown).
  stop(): void {
    this.#cancel?.();
    this.#cancel = null;
    if (this.#count > 0) this.#end();
  }

  #arm(from: number): void {
    this.#cancel = this.#clock.at(from + this.#quietMs, () => {
      this.#cancel = null;
      if (this.#clock.now() - this.#last >= this.#quietMs) this.#end();
      else this.#arm(this.#last);
    });
  }

  #end(): void {
    this.#log(L.probesRefusedTotal(this.#count, this.#last - this.#since));
    this.#count = 0;
  }
}
