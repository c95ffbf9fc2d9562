import { systemClock, type Clock } from '../core/clock.js';
import type { PortsentryConf } from './conf.js';
import { alertTable } from './alert-table.js';
import type { IgnoreGate } from './ignore-gate.js';
import type { Logger } from './log.js';
import type { NativeAlert } from './sensors/trap-addon.js';

// -tcp: the attackalert line sent from C right after accept() (native/trapalert.c), before Node runs any
// JavaScript for the probe: that is where ours lost to 1.2 (bench/listener-latency, docs/portsentry.md).
// What C does with a peer, and every byte of the line, is the table alert-table.ts builds from the pipeline's
// inputs; this file says when C may act at all and keeps the table current:
// - SCAN_TRIGGER 0 or 1 (every hit alarms, no state to mirror), RESOLVE_HOST off (the line has no name) and a
//   syslog socket;
// - the ignore step as the pipeline's IgnoreGate reads it, and only when that step logs nothing (no table
//   otherwise); a new table whenever a file changed or the table's clock runs short;
// - armed only while nothing is in flight in the pipeline and nothing is queued for syslog, so no line is
//   reordered (C disarms itself with every probe it hands over; ready() re-arms when the pipeline is idle again).
// Everything else about the probe (ignore verdict, banner, own-address check, blocked check, KILL_*, history) is
// the pipeline's, for every peer.
export const fastAlertAllowed = (conf: PortsentryConf, logger: Logger): boolean =>
  !conf.resolveHost && (conf.scanTrigger ?? 0) <= 1 && logger.syslogAvailable;

// The timer gives C a new table when its clock has less than this many seconds left, and looks this often, so
// the table (about 1 ms to build) is rebuilt off the probe path; ready() rebuilds only for a changed ignore file
// (or a clock run out, when the timer was held up).
const CLOCK_MARGIN_S = 120;
const REFRESH_MS = 60_000;

export class FastAlert {
  readonly #alert: NativeAlert;
  readonly #ignore: IgnoreGate;
  readonly #logger: Logger;
  readonly #pid: number;
  readonly #clock: Clock;
  #cancel: () => void = () => {};
  // The table in C: the ignore snapshot it was built from, whether there is one, the second its clock ends.
  #key = '';
  #has = false;
  #end = 0;

  private constructor(alert: NativeAlert, ignore: IgnoreGate, logger: Logger, pid: number, clock: Clock) {
    this.#alert = alert;
    this.#ignore = ignore;
    this.#logger = logger;
    this.#pid = pid;
    this.#clock = clock;
    this.#tick();
  }

  // Keeps the table's clock current while no probe comes (a new table leaves C armed or not, as it was).
  #tick(): void {
    this.#cancel = this.#clock.at(this.#clock.now() + REFRESH_MS, () => {
      this.#refresh(this.#clock.now(), CLOCK_MARGIN_S);
      this.#tick();
    });
  }

  // null when the conf or the host does not allow it (then every probe takes the pipeline's own path).
  static open(
    alert: NativeAlert | null,
    conf: PortsentryConf,
    ignore: IgnoreGate,
    logger: Logger,
    opts: { pid?: number; clock?: Clock } = {},
  ): FastAlert | null {
    if (!alert || !fastAlertAllowed(conf, logger)) return null;
    if (!alert.open(logger.syslogPath)) return null;
    const fast = new FastAlert(alert, ignore, logger, opts.pid ?? process.pid, opts.clock ?? systemClock);
    // A line JS had to queue must leave before any line from C.
    logger.onQueued(() => {
      alert.ready(false);
    });
    fast.ready();
    return fast;
  }

  // The pipeline is idle: arm C, with a current table.
  ready(): boolean {
    if (!this.#logger.idle()) return this.#alert.ready(false);
    return this.#alert.ready(this.#refresh(this.#clock.now(), 1));
  }

  // Sends a new table when the ignore files changed or the clock has less than marginS seconds left; false when
  // there is none (the ignore step would log something first).
  #refresh(nowMs: number, marginS: number): boolean {
    const snap = this.#ignore.snapshot();
    const key = snap ? snap.key : 'none';
    if (key !== this.#key || nowMs / 1000 > this.#end - marginS) {
      const table = snap ? alertTable(snap, this.#pid, nowMs) : null;
      this.#alert.table(table ? table.bytes : null);
      this.#key = key;
      this.#has = table !== null;
      this.#end = table ? table.end : Number.POSITIVE_INFINITY;
    }
    return this.#has;
  }

  close(): void {
    this.#cancel();
    this.#logger.onQueued(null);
    this.#alert.ready(false);
    this.#alert.table(null);
  }
}
