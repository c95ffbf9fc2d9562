import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// After a burst of lines (a log replayed, a flood), the heap holds the burst's garbage until V8 decides to
// collect it, and the process keeps that memory. Two seconds after a burst of at least `minLines`, collect once;
// during a long burst, also every `everyLines` (a full collection of the counting state takes a few ms).
export class IdleCollector {
  readonly #gc: (() => void) | null;
  readonly #minLines: number;
  #pending = 0;
  #sinceFull = 0;
  readonly #everyLines = 10_000;
  #timer: NodeJS.Timeout | null = null;

  constructor(minLines = 2000) {
    this.#minLines = minLines;
    let gc: (() => void) | null;
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
    this.#gc = typeof gc === 'function' ? gc : null;
  }

  poke(lines: number): void {
    if (!this.#gc) return;
    this.#pending += lines;
    this.#sinceFull += lines;
    if (this.#sinceFull >= this.#everyLines) {
      this.#sinceFull = 0;
      setImmediate(() => this.#gc?.());
    }
    if (this.#pending < this.#minLines) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#pending = 0;
      this.#sinceFull = 0;
      this.#gc?.();
    }, 2000);
    this.#timer.unref();
  }
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }
}
