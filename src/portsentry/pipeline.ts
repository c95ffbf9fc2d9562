import type { Addr } from '../core/addr.js';
import type { PortsentryConf } from './conf.js';
import type { ProbeEvent } from './event.js';
import type { BlockedStore } from './blocked.js';
import type { IgnoreGate } from './ignore-gate.js';
import * as L from './lines.js';
import { dispose } from './respond.js';
import type { CommandRunner } from './run-command.js';
import type { StateEngine } from './trigger.js';

// The one path every sensor's events take: ignore -> SCAN_TRIGGER -> (banner) -> detection line -> already
// blocked? -> respond -> blocked/history line. Events are handled one at a time, in arrival order, as 1.2's
// single loop did, so log lines of two events never interleave.
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
};

// Sensor callbacks: onAlarm at the point where 1.2 writes the banner (classic modes), onDone when finished.
// alerted: the sensor already sent this event's detection line, after the ignore and trigger steps passed with
// the very list and state this pipeline holds (src/portsentry/fast-alert.ts says when that may be).
export type ProbeHooks = { onAlarm?: (banner: string | null) => void; onDone?: () => void; alerted?: boolean };

export class Pipeline {
  readonly #d: PipelineDeps;
  #queue: Promise<void> = Promise.resolve();
  #inFlight = 0;

  constructor(deps: PipelineDeps) { this.#d = deps; }

  submit(ev: ProbeEvent, hooks: ProbeHooks = {}): Promise<void> {
    // Idle (every earlier event finished): start now, so the alert leaves within the sensor's callback instead
    // of after a promise hop; otherwise wait in line.
    const start = (): Promise<void> => this.#handle(ev, hooks);
    const work = this.#inFlight === 0 ? start() : this.#queue.then(start);
    this.#inFlight++;
    const next = work.catch((e: unknown) => {
      this.#d.log(`adminalert: ERROR: internal error handling a probe: ${String(e)}`);
    }).finally(() => {
      this.#inFlight--;
      hooks.onDone?.();
      if (this.#inFlight === 0) this.#d.onIdle?.();
    });
    this.#queue = next;
    return next;
  }

  async #handle(ev: ProbeEvent, hooks: ProbeHooks): Promise<void> {
    const d = this.#d;
    const ip = ev.src.text;
    if (!hooks.alerted) {
      const ig = d.ignore.check(ev.src);
      if (ig.verdict === 'ignored') return;
      ig.syslog.forEach(d.log);
    }
    const trig = d.engine.hit(ev.src);
    trig.syslog.forEach(d.log);
    if (!trig.alarm && !hooks.alerted) return;
    hooks.onAlarm?.(d.conf.portBanner);
    const host = d.conf.resolveHost ? await d.resolve(ev.src) : ip;
    L.detectionLines(ev, host, ip).forEach(hooks.alerted ? (d.echo ?? (() => {})) : d.log);
    if (d.ignore.isOwn(ev.src)) { d.log(L.localAddress(ip)); return; }
    const check = d.store.isBlocked(ev.src);
    check.syslog.forEach(d.log);
    if (check.blocked) { d.log(L.alreadyBlockedLine(ev.mode, host, ip)); return; }
    const ok = await dispose({ conf: d.conf, hostsDeny: d.hostsDeny, run: d.run, log: d.log },
      { addr: ev.src, port: ev.dstPort, mode: ev.mode, proto: ev.proto });
    if (!ok) { d.log(L.couldNotBlockLine(ev.mode, host, ip)); return; }
    const proto = ev.proto === 'tcp' ? 'TCP' : 'UDP';
    (await d.store.record(L.blockedLine(d.now(), host, ip, ev.dstPort, proto))).forEach(d.log);
  }
}
