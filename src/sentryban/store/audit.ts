import type { Instant } from '../../core/clock.js';
import { formatDurationSec } from '../../core/duration.js';
import type { Decision } from '../types.js';

// One audit row per decision: time, jail, target, kind and the reason in words (plus data for machines).
// fleet-refused: a stream entry that failed its checks (fleet/event.ts); fleet-expired: a received ban that had
// ended before it arrived (recorded, not applied).
export type AuditKind =
  | 'found'
  | 'ignored'
  | 'ban'
  | 'unban'
  | 'action-failed'
  | 'action-repaired'
  | 'restored'
  | 'fleet-refused'
  | 'fleet-expired';
export type AuditRow = {
  at: Instant;
  jail: string;
  target: string | null;
  kind: AuditKind;
  detail: string;
  data: string | null;
};

export const auditRowOf = (at: Instant, d: Decision): AuditRow => {
  switch (d.kind) {
    case 'found':
      return {
        at,
        jail: d.jail,
        target: d.failure.id,
        kind: 'found',
        detail: `${d.failure.filter}: failure ${d.count}`,
        // counted: the ticket left behind, for the next start (store.openTickets); undefined is not written
        data: JSON.stringify({
          time: d.failure.time,
          source: d.failure.source,
          lines: d.failure.lines,
          counted: d.counted,
        }),
      };
    case 'ignored':
      return {
        at,
        jail: d.jail,
        target: d.failure.id,
        kind: 'ignored',
        detail: d.rule,
        data: JSON.stringify({ time: d.failure.time, lines: d.failure.lines }),
      };
    case 'ban':
      return {
        at,
        jail: d.jail,
        target: d.ban.target.text,
        kind: 'ban',
        detail: `${d.reason}; until ${d.ban.expiresAt === null ? 'permanent' : new Date(d.ban.expiresAt).toISOString()} (${formatDurationSec(d.ban.bantimeSec)})`,
        data: JSON.stringify({
          filter: d.failures[0]?.filter ?? null,
          lines: d.failures.flatMap((f) => f.lines).slice(-10),
          banCount: d.ban.banCount,
          bantime: d.ban.bantimeSec,
          ...(d.ban.origin !== undefined ? { origin: d.ban.origin } : {}),
        }),
      };
    case 'unban':
      return { at, jail: d.jail, target: d.ban.target.text, kind: 'unban', detail: d.reason, data: null };
  }
};

// fail2ban's log line format (helpers.py): "%(asctime)s %(name)-24s[%(process)d]: %(levelname)-7s %(message)s".
// `at`: the time, or its stamp (fail2banStamp) when several lines share it.
export const fail2banLogLine = (
  at: Instant | string,
  logger: string,
  pid: number,
  level: string,
  message: string,
): string => {
  const stamp = typeof at === 'string' ? at : fail2banStamp(at);
  return `${stamp} ${`fail2ban.${logger}`.padEnd(24)}[${pid}]: ${level.padEnd(7)} ${message}`;
};
export const fail2banStamp = (at: Instant): string => {
  const d = new Date(at);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
};

// The message fail2ban would log for a decision (null: none at INFO and above).
export const fail2banMessage = (
  d: Decision | { kind: 'restored'; jail: string; target: string },
): { logger: string; level: string; text: string } | null => {
  const fmt = (t: string): string => t.replace(/\/(32|128)$/, '');
  switch (d.kind) {
    case 'found':
      return { logger: 'filter', level: 'INFO', text: `[${d.jail}] Found ${d.failure.id} - ${pyTime(d.failure.time)}` };
    case 'ignored':
      return d.rule.startsWith('already banned')
        ? { logger: 'actions', level: 'NOTICE', text: `[${d.jail}] ${d.failure.id} already banned` }
        : { logger: 'filter', level: 'INFO', text: `[${d.jail}] Ignore ${d.failure.id} by ${d.rule}` };
    case 'ban':
      return { logger: 'actions', level: 'NOTICE', text: `[${d.jail}] Ban ${fmt(d.ban.target.text)}` };
    case 'unban':
      return { logger: 'actions', level: 'NOTICE', text: `[${d.jail}] Unban ${fmt(d.ban.target.text)}` };
    case 'restored':
      return { logger: 'actions', level: 'NOTICE', text: `[${d.jail}] Restore Ban ${fmt(d.target)}` };
  }
};

const pyTime = (t: Instant): string => {
  const d = new Date(t);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};
