// The project's one queue of jobs: one at a time, in the order queued, each starting after the previous one
// settled (fulfilled or not) and its bookkeeping ran. Idle (nothing queued or running), a job starts at once,
// inside the caller's turn, not after a promise hop: the listener's alert leaves within the sensor's callback.
// A job queued from inside a running job runs after it.
export class Serial {
  #tail: Promise<void> = Promise.resolve();
  #running = 0;
  readonly #onIdle: (() => void) | undefined;

  // onIdle: called each time the last queued job has settled.
  constructor(onIdle?: () => void) {
    this.#onIdle = onIdle;
  }

  get idle(): boolean {
    return this.#running === 0;
  }

  // The job's outcome, once it and `after` (then onIdle, if nothing else is queued) have run.
  run<T>(job: () => T | Promise<T>, after?: () => void): Promise<T> {
    const now = this.#running === 0;
    this.#running++;
    // Runs the job at once (async: a synchronous throw becomes its rejection).
    const start = async (): Promise<T> => job();
    const work = now ? start() : this.#tail.then(start, start);
    const done = work.then(
      () => this.#settled(after),
      () => this.#settled(after),
    );
    this.#tail = done.catch(() => undefined);
    return done.then(() => work);
  }

  #settled(after: (() => void) | undefined): void {
    this.#running--;
    try {
      after?.();
    } finally {
      if (this.#running === 0) this.#onIdle?.();
    }
  }
}
