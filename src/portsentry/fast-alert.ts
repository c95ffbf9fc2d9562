import type { PortsentryConf } from './conf.js';
import type { NativeTrap } from './fast-spawn.js';
import type { IgnoreGate, IgnoreSnapshot } from './ignore-gate.js';
import { SYSLOG_PRI, SYSLOG_TAG, type Logger } from './log.js';

// -tcp: the attackalert line sent from C right after accept() (native/trapalert.c), before Node runs any
// JavaScript for the probe: that is where ours lost to 1.2 (bench/listener-latency, docs/portsentry.md).
// The pipeline stays the one place that decides. It lets C write the line only when C's answer is the same by
// construction:
// - SCAN_TRIGGER 0 or 1 (every hit alarms, no state to mirror) and RESOLVE_HOST off (the line has no name);
// - the ignore step as the pipeline's IgnoreGate last read it (C re-checks each file's stat key per probe, and
//   hands the probe to JS when one changed), and only when that step logs nothing;
// - nothing in flight in the pipeline and nothing queued for syslog, so no line is reordered (C disarms itself
//   with every probe it hands over; ready() re-arms when the pipeline is idle again).
// Everything else about the probe (banner, own-address check, blocked check, KILL_*, history) is the pipeline's.
export const fastAlertAllowed = (conf: PortsentryConf, logger: Logger): boolean =>
  !conf.resolveHost && (conf.scanTrigger ?? 0) <= 1 && logger.syslogAvailable;

const cidrBytes = (snap: IgnoreSnapshot): Uint8Array => {
  const out = new Uint8Array(snap.entries.length * 18);
  snap.entries.forEach((c, i) => {
    out[i * 18] = c.base.family;
    out[i * 18 + 1] = c.bits;
    out.set(c.base.bytes, i * 18 + 2);
  });
  return out;
};

export class FastAlert {
  readonly #trap: NativeTrap;
  readonly #ignore: IgnoreGate;
  readonly #logger: Logger;
  #sent = '';

  private constructor(trap: NativeTrap, ignore: IgnoreGate, logger: Logger) {
    this.#trap = trap;
    this.#ignore = ignore;
    this.#logger = logger;
  }

  // null when the conf or the host does not allow it (then every probe takes the pipeline's own path).
  static open(
    trap: NativeTrap | null,
    conf: PortsentryConf,
    ignore: IgnoreGate,
    logger: Logger,
    pid = process.pid,
  ): FastAlert | null {
    if (!trap || !fastAlertAllowed(conf, logger)) return null;
    if (!trap.alertOpen(logger.syslogPath, SYSLOG_PRI, `${SYSLOG_TAG}[${pid}]`)) return null;
    const fast = new FastAlert(trap, ignore, logger);
    // A line JS had to queue must leave before any line from C.
    logger.onQueued(() => {
      trap.alertReady(false);
    });
    fast.ready();
    return fast;
  }

  // The pipeline is idle: arm C with the current ignore lists (sent again only when a file changed).
  ready(): boolean {
    if (!this.#logger.idle()) return this.#trap.alertReady(false);
    const snap = this.#ignore.snapshot();
    const key = snap ? snap.key : 'none';
    if (key !== this.#sent) {
      if (snap) this.#trap.alertSnapshot(snap.files, cidrBytes(snap));
      else this.#trap.alertSnapshot(null);
      this.#sent = key;
    }
    return this.#trap.alertReady(snap !== null);
  }

  close(): void {
    this.#logger.onQueued(null);
    this.#trap.alertReady(false);
    this.#trap.alertSnapshot(null);
  }
}
