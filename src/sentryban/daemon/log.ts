import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { stdoutOpen } from '../../core/stdout.js';
import { FACILITY, SEVERITY, openSyslog, type SyslogSink } from '../../core/syslog.js';
import { openRemoteSyslog, type RemoteSyslog } from '../../core/syslog-remote.js';
import type { LogLevel, LogTargets } from '../config/log-target.js';
import { fail2banLogLine, fail2banMessage, fail2banStamp } from '../store/audit.js';
import type { Decision } from '../types.js';

// Decisions as fail2ban would log them ("NOTICE  [sshd] Ban 203.0.113.5"), to the log file(s), in the
// foreground to stderr, and from a chosen level up to syslog ("sentryban[pid]: NOTICE  [sshd] Ban ..."), local
// and remote. One line per decision, never per input line.
export type MoreTargets = {
  files?: readonly string[];
  stdout?: boolean;
  syslog?: { sink: SyslogSink; level: LogLevel };
  remote?: { sinks: readonly RemoteSyslog[]; level: LogLevel };
};

const RANK: Readonly<Record<string, number>> = { CRITICAL: -1, ERROR: 0, WARNING: 1, NOTICE: 2, INFO: 3, DEBUG: 4 };
const SYSLOG_SEVERITY: Readonly<Record<string, number>> = {
  CRITICAL: SEVERITY.crit,
  ERROR: SEVERITY.err,
  WARNING: SEVERITY.warning,
  NOTICE: SEVERITY.notice,
  INFO: SEVERITY.info,
  DEBUG: SEVERITY.debug,
};

type Entry = { logger: string; level: string; text: string };

export class DecisionLog {
  readonly #files: string[];
  readonly #stderr: boolean;
  readonly #stdout: boolean;
  readonly #syslog: MoreTargets['syslog'] | null;
  readonly #remote: MoreTargets['remote'] | null;
  readonly #clock: Clock;
  constructor(file: string | null, stderr: boolean, clock: Clock, more: MoreTargets = {}) {
    this.#files = [...new Set([...(file ? [file] : []), ...(more.files ?? [])])];
    this.#stderr = stderr;
    this.#stdout = more.stdout ?? false;
    this.#syslog = more.syslog ?? null;
    this.#remote = more.remote ?? null;
    this.#clock = clock;
    for (const f of this.#files) mkdirSync(dirname(f), { recursive: true });
  }
  decision(d: Decision | { kind: 'restored'; jail: string; target: string }): void {
    this.decisions([d]);
  }
  // One write per batch of decisions.
  decisions(ds: readonly (Decision | { kind: 'restored'; jail: string; target: string })[]): void {
    this.#write(
      ds.flatMap((d) => {
        const m = fail2banMessage(d);
        return m ? [m] : [];
      }),
    );
  }
  line(logger: string, level: string, text: string): void {
    this.#write([{ logger, level, text }]);
  }
  // A line about the remote syslog servers themselves: every target but those.
  localLine(logger: string, level: string, text: string): void {
    this.#write([{ logger, level, text }], true);
  }
  close(): void {
    this.#syslog?.sink.close();
    for (const r of this.#remote?.sinks ?? []) void r.close();
  }

  #write(entries: readonly Entry[], localOnly = false): void {
    if (entries.length === 0) return;
    const stamp = fail2banStamp(this.#clock.now()); // once for the batch's lines
    let text = '';
    for (const e of entries) text += `${fail2banLogLine(stamp, e.logger, process.pid, e.level, e.text)}\n`;
    for (const f of this.#files) {
      try {
        appendFileSync(f, text);
      } catch {
        /* the audit rows still hold it */
      }
    }
    if (this.#stderr) process.stderr.write(text);
    if (this.#stdout && stdoutOpen()) process.stdout.write(text);
    if (this.#syslog) toSyslog(entries, [this.#syslog.sink], this.#syslog.level);
    if (this.#remote && !localOnly) toSyslog(entries, this.#remote.sinks, this.#remote.level);
  }
}

// The same text to local and remote syslog: "NOTICE  [sshd] Ban 192.0.2.1", from `level` up.
const toSyslog = (entries: readonly Entry[], sinks: readonly Pick<SyslogSink, 'log'>[], level: LogLevel): void => {
  const max = RANK[level] ?? 1;
  for (const e of entries) {
    const r = RANK[e.level];
    if (r === undefined || r > max) continue;
    const message = `${e.level.padEnd(7)} ${e.text}`;
    for (const s of sinks) s.log(message, SYSLOG_SEVERITY[e.level]);
  }
};

// The daemon's log from its logtarget settings. In the foreground every line also goes to stderr (as before).
// No syslog socket: said once through `warn`, and the log goes on without syslog.
export const openDecisionLog = (t: LogTargets, clock: Clock, warn: (message: string) => void): DecisionLog => {
  const sink = t.syslog ? openSyslog({ path: t.syslogSocket, tag: 'sentryban', facility: FACILITY.daemon }) : null;
  if (sink && !sink.available) warn(`no syslog socket at ${t.syslogSocket}; logging without syslog`);
  let log: DecisionLog | null = null;
  const remote = t.remote.map((address) =>
    openRemoteSyslog({
      address,
      tag: 'sentryban',
      facility: FACILITY.daemon,
      severity: SEVERITY.notice,
      onTrouble: (text) => log?.localLine('sentryban', 'ERROR', text),
    }),
  );
  log = new DecisionLog(null, true, clock, {
    files: t.files,
    stdout: t.stdout,
    ...(sink?.available ? { syslog: { sink, level: t.syslogLevel } } : {}),
    ...(remote.length ? { remote: { sinks: remote, level: t.syslogLevel } } : {}),
  });
  return log;
};
