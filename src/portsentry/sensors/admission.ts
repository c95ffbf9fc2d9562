// How many probes may wait (smart-verify, then the pipeline) at once. Past `max`, probes are refused; under
// pressure (more than `pressure` waiting), a source that already has `perSource` probes waiting is refused
// first, so that a flood from hosts already being handled does not crowd out the first probe of a new scanner.
// State is one counter per waiting source: bounded by `max`.
export type AdmissionLimits = { max: number; pressure: number; perSource: number };

export class Admission {
  readonly #limits: AdmissionLimits;
  readonly #bySource = new Map<string, number>();
  #waiting = 0;
  refused = 0;

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  get waiting(): number {
    return this.#waiting;
  }
  get sources(): number {
    return this.#bySource.size;
  }

  admit(source: string): boolean {
    const mine = this.#bySource.get(source) ?? 0;
    const l = this.#limits;
    if (this.#waiting >= l.max || (this.#waiting >= l.pressure && mine >= l.perSource)) {
      this.refused++;
      return false;
    }
    this.#waiting++;
    this.#bySource.set(source, mine + 1);
    return true;
  }

  release(source: string): void {
    const mine = this.#bySource.get(source);
    if (mine === undefined) return;
    this.#waiting--;
    if (mine <= 1) this.#bySource.delete(source);
    else this.#bySource.set(source, mine - 1);
  }
}
