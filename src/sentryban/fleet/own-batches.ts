import { compareIds } from './stream-id.js';

// This host's own published batches as ranges of the stream: the id of the entry just before each batch (the
// stream's last entry when the publishing script began) and the batch's last id. The script runs atomically, so
// nothing else lies between the two: a reader whose position is a range's `before` moves past the whole batch
// without reading it back (a host read each of its own events back only to skip it, the most of what its reader
// decoded). Anything else (another host's entry in between, a range not known yet) is read as before.
const MAX_RANGES = 64;
export class OwnBatches {
  readonly #ranges: { before: string; last: string }[] = [];
  #sending: Promise<unknown> | null = null;

  // A batch on its way: the reader waits for its reply (bounded) before it reads, so that the range is known.
  sending<T>(reply: Promise<T>): Promise<T> {
    const p = reply.finally(() => {
      if (this.#sending === p) this.#sending = null;
    });
    this.#sending = p;
    return p;
  }
  // `before` '' (an empty stream before it): nothing to skip to.
  sent(before: string, last: string): void {
    if (before === '' || last === '') return;
    this.#ranges.push({ before, last });
    if (this.#ranges.length > MAX_RANGES) this.#ranges.shift();
  }
  // Resolves once no batch is on its way, or after `maxMs`.
  async settled(maxMs: number): Promise<void> {
    const p = this.#sending;
    if (p === null) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      p.then(
        () => undefined,
        () => undefined,
      ),
      new Promise<void>((res) => (timer = setTimeout(res, maxMs))),
    ]);
    clearTimeout(timer);
  }
  // The position past the own batches that follow `pos` directly (`pos` itself when none does); ranges the
  // position has passed are dropped.
  positionPast(pos: string): string {
    let p = pos;
    while (this.#ranges.length > 0) {
      const r = this.#ranges[0] as { before: string; last: string };
      if (compareIds(r.last, p) <= 0) this.#ranges.shift();
      else if (r.before === p) {
        p = r.last;
        this.#ranges.shift();
      } else break;
    }
    return p;
  }
}
