// One operation at a time: jobs run in the order they were queued, each after the previous one settled.
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(op, op);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}
