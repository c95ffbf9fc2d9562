import type { Addr } from '../core/addr.js';
import { systemClock, type Clock } from '../core/clock.js';
import { Serial } from '../core/serial.js';
import { BlockQueue, BlockRate } from './block-rate.js';
import type { PortsentryConf } from './conf.js';
import type { ProbeEvent } from './event.js';
import type { BlockedStore } from './blocked.js';
import type { IgnoreGate } from './ignore-gate.js';
import * as L from './lines.js';
import { dispose } from './respond.js';
import { ProbeCounts } from './counts.js';
import type { CommandRunner } from './run-command.js';
import type { StateEngine } from './trigger.js';

// The one path every sensor's events take: ignore -> SCAN_TRIGGER -> (banner) -> detection line -> own address or
// default gateway? -> already blocked? -> (BLOCK_RATE_MAX: queued?) -> respond -> blocked/history line.
// Events are handled one at a time, in arrival order, as 1.2's single loop did, so log lines of two events never
// interleave; a block queued by BLOCK_RATE_MAX runs later as a job of its own in the same line.
export type PipelineDeps = {
  conf: PortsentryConf;
  log: (line: string) => void;
  ignore: IgnoreGate;
  engine: StateEngine;
  store: BlockedStore;
  hostsDeny: string;
  run: CommandRunner;
  resolve: (addr: Addr) => Promise<string>;
  now: () => Date;
  // Where a line that already reached syslog another way goes (stdout under --stdout); default: nowhere.
  echo?: (line: string) => void;
  // Called when the last event in flight has finished (the fast alert path re-arms there).
  onIdle?: () => void;
  // BLOCK_RATE_MAX's timers and window (default: the wall clock), and its queue's size (default BLOCK_QUEUE_MAX).
  clock?: Clock;
  blockQueueMax?: number;
};

// Sensor callbacks: onAlarm at the point where 1.2 writes the banner (classic modes), onDone when finished.
// alerted: the sensor already sent this event's detection line (the -tcp line from C), by the table
// src/portsentry/alert-table.ts builds from this pipeline's ignore list; src/portsentry/fast-alert.ts arms it only
// when every hit alarms and nothing is in flight here. The pipeline then only echoes the line and goes on.
export type ProbeHooks = { onAlarm?: (banner: string | null) => void; onDone?: () => void; alerted?: boolean };

type Pending = { ev: ProbeEvent; host: string; ip: string };

export class Pipeline {
  readonly #d: PipelineDeps;
  // One probe (or queued block) at a time, in order; an idle pipeline starts a probe inside the sensor's callback.
  readonly #serial: Serial;
  // BLOCK_RATE_MAX: null when off (1.2's behaviour: every block at once).
  readonly #rate: BlockRate | null;
  readonly #pending: BlockQueue<Pending>;
  readonly #clock: Clock;
  #timer: (() => void) | null = null;
  #stopped = false;
  // What it has seen (the metrics endpoint reads these when scraped).
  readonly counts = new ProbeCounts();

  constructor(deps: PipelineDeps) {
    this.#d = deps;
    this.#rate = deps.conf.blockRateMax > 0 ? new BlockRate(deps.conf.blockRateMax) : null;
    this.#pending = new BlockQueue<Pending>(deps.blockQueueMax);
    this.#clock = deps.clock ?? systemClock;
    this.#serial = new Serial(() => this.#d.onIdle?.());
  }

  // Hosts whose block waits for BLOCK_RATE_MAX.
  get queuedBlocks(): number {
    return this.#pending.size;
  }

  submit(ev: ProbeEvent, hooks: ProbeHooks = {}): Promise<void> {
    this.counts.probe(ev.mode, ev.dstPort);
    return this.#enqueue(() => this.#handle(ev, hooks), hooks.onDone);
  }

  // Ends the queued blocks (logged with their count, never dropped silently); call before exit.
  stop(): void {
    this.#stopped = true;
    this.#timer?.();
    this.#timer = null;
    const left = this.#pending.clear();
    if (left.length > 0) this.#d.log(L.blockQueueLeft(left.length));
  }

  // A job through the queue; its failure is logged, never thrown at the sensor.
  #enqueue(job: () => Promise<void>, onDone?: () => void): Promise<void> {
    return this.#serial.run(job, onDone).catch((e: unknown) => {
      this.#d.log(`adminalert: ERROR: internal error handling a probe: ${String(e)}`);
    });
  }

  async #handle(ev: ProbeEvent, hooks: ProbeHooks): Promise<void> {
    const d = this.#d;
    const ip = ev.src.text;
    if (!hooks.alerted) {
      const ig = d.ignore.check(ev.src);
      if (ig.verdict === 'ignored') {
        this.counts.ignored++;
        return;
      }
      ig.syslog.forEach(d.log);
    }
    const trig = d.engine.hit(ev.src);
    trig.syslog.forEach(d.log);
    if (!trig.alarm && !hooks.alerted) return;
    hooks.onAlarm?.(d.conf.portBanner);
    this.counts.alerts++;
    const host = d.conf.resolveHost ? await d.resolve(ev.src) : ip;
    L.detectionLines(ev, host, ip).forEach(hooks.alerted ? (d.echo ?? (() => {})) : d.log);
    if (d.ignore.isOwn(ev.src)) {
      this.counts.ignored++;
      d.log(L.localAddress(ip));
      return;
    }
    if (d.ignore.isGateway(ev.src)) {
      this.counts.ignored++;
      d.log(L.gatewayAddress(ip));
      return;
    }
    const check = d.store.isBlocked(ev.src);
    check.syslog.forEach(d.log);
    // A host whose block is queued counts as blocked for its later probes, with the same line.
    if (check.blocked || this.#pending.has(ip)) {
      this.counts.alreadyBlocked++;
      d.log(L.alreadyBlockedLine(ev.mode, host, ip));
      return;
    }
    if (this.#mustQueue(ev)) {
      this.#queueBlock({ ev, host, ip });
      return;
    }
    await this.#block(ev, host, ip);
  }

  // Under BLOCK_RATE_MAX, a block that acts (BLOCK_x 1 or 2) waits when others wait or the last second is full.
  #mustQueue(ev: ProbeEvent): boolean {
    const rate = this.#rate;
    const level = ev.proto === 'tcp' ? this.#d.conf.blockTcp : this.#d.conf.blockUdp;
    if (!rate || (level !== 1 && level !== 2)) return false;
    const now = this.#clock.now();
    if (this.#pending.size > 0 || rate.wait(now) > 0) return true;
    rate.take(now);
    return false;
  }

  #queueBlock(p: Pending): void {
    const first = this.#pending.size === 0;
    const r = this.#pending.push(p.ip, p, this.#clock.now());
    if (r === 'full') {
      this.#d.log(L.blockQueueFull(p.ip, this.#pending.capacity));
      return;
    }
    if (first) this.#d.log(L.blockRateReached(this.#rate?.max ?? 0));
    this.#arm();
  }

  // The next queued block's turn: at once when the window allows, else by a timer. One block per job, so probes
  // arriving meanwhile keep their place between two queued blocks.
  #arm(): void {
    const rate = this.#rate;
    if (!rate || this.#timer || this.#stopped || this.#pending.size === 0) return;
    let fired = false;
    const turn = (): void => {
      fired = true;
      this.#timer = null;
      void this.#enqueue(() => this.#blockNext());
    };
    const now = this.#clock.now();
    const wait = rate.wait(now);
    if (wait === 0) {
      turn();
      return;
    }
    // The clock may run turn() at once, inside at(), when the instant is already past by its own reading (the
    // system clock does, a millisecond later): then there is no timer to keep, or the queue would stall for good.
    const cancel = this.#clock.at(now + wait, turn);
    if (!fired) this.#timer = cancel;
  }

  async #blockNext(): Promise<void> {
    const rate = this.#rate;
    if (!rate || this.#stopped) return;
    const now = this.#clock.now();
    const p = rate.wait(now) === 0 ? this.#pending.shift(now) : undefined;
    if (p) {
      rate.take(now);
      await this.#block(p.ev, p.host, p.ip);
    }
    if (this.#pending.size > 0) {
      this.#arm();
      return;
    }
    const t = this.#pending.takeTally();
    if (t.queued > 0) this.#d.log(L.blockQueueDrained(t.queued, t.longestMs));
  }

  async #block(ev: ProbeEvent, host: string, ip: string): Promise<void> {
    const d = this.#d;
    const ok = await dispose(
      { conf: d.conf, hostsDeny: d.hostsDeny, run: d.run, log: d.log },
      { addr: ev.src, port: ev.dstPort, mode: ev.mode, proto: ev.proto },
    );
    if (!ok) {
      this.counts.blockFailures++;
      d.log(L.couldNotBlockLine(ev.mode, host, ip));
      return;
    }
    this.counts.blocks++;
    const proto = ev.proto === 'tcp' ? 'TCP' : 'UDP';
    (await d.store.record(L.blockedLine(d.now(), host, ip, ev.dstPort, proto))).forEach(d.log);
  }
}
