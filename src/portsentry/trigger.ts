import type { Addr } from '../core/addr.js';
import * as L from './lines.js';

// 1.2's SCAN_TRIGGER state engine: one ring of the last 50 hits (not distinct ports) per process.
export const STATE_SLOTS = 50;

export type TriggerResult = { alarm: boolean; syslog: string[] };

export class StateEngine {
  readonly #trigger: number;
  readonly #slots: (string | undefined)[] = new Array<string | undefined>(STATE_SLOTS);
  #next = 0;

  constructor(trigger: number) {
    this.#trigger = trigger;
  }

  // Record a hit from `src` and say whether it raises the alarm.
  hit(src: Addr): TriggerResult {
    const t = this.#trigger;
    if (t <= 0) return { alarm: true, syslog: [] };
    let prior = 0;
    for (const s of this.#slots) if (s === src.text) prior++;
    this.#slots[this.#next] = src.text;
    this.#next = (this.#next + 1) % STATE_SLOTS;
    if (t > STATE_SLOTS) return { alarm: true, syslog: L.triggerTooLarge(t) };
    return { alarm: 1 + prior >= t, syslog: [] };
  }
}
