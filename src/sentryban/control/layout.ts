import type { Verb } from './protocol.js';
import type { Paint, Tone } from './layout-style.js';
import { formatDaemonStatus, formatJailStatus, type DaemonStatus, type JailSources } from './layout-status.js';
import type { JailStatus } from './layout-status.js';
import { formatTable, type Cell } from './layout-table.js';
import { formatLeft, formatLocal } from './layout-time.js';
import type { AuditView, BanView, CheckRow, TestView } from './layout-views.js';

// Every verb's reply as people read it (--json prints the reply itself). Pure: time, colour and where a jail
// reads from come in as values.
// sources: where the jail of `status JAIL` reads from, as the daemon says (null for every other verb).
export type LayoutEnv = { now: number; paint: Paint; sources: JailSources };
type Layout = (r: unknown, env: LayoutEnv, args: Record<string, string | number>) => string;

// Text from logs and commands may hold anything: control characters are shown, never sent to the terminal.
export const visible = (s: string): string =>
  // eslint-disable-next-line no-control-regex
  s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const map: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };
    return map[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });

// The audit trail keeps a target as a CIDR; a single address reads as the address, as in `list`.
const hostText = (t: string): string => t.replace(t.includes(':') ? /\/128$/ : /\/32$/, '');

const APPLIED_TONE: Record<string, Tone> = { applied: 'good', pending: 'warn', failed: 'bad' };

const appliedCell = (b: BanView): Cell => {
  const bad = Object.entries(b.backends)
    .filter(([, v]) => v !== 'applied')
    .map(([k, v]) => `${k}: ${v}`);
  return { text: `${b.applied}${bad.length ? ` (${bad.join(', ')})` : ''}`, tone: APPLIED_TONE[b.applied] ?? 'bad' };
};

const formatBans = (bans: BanView[], env: LayoutEnv, jail: string | undefined): string => {
  if (bans.length === 0) return jail === undefined ? 'no bans in force\n' : `no bans in force in ${jail}\n`;
  // ORIGIN (docs/fleet.md) only when a fleet host's ban is among them: a single host's table stays as it was.
  const fleet = bans.some((b) => b.origin !== undefined);
  return formatTable(
    ['JAIL', 'ADDRESS', 'BANNED', 'EXPIRES', 'LEFT', 'BANTIME', 'BANS', 'APPLIED', ...(fleet ? ['ORIGIN'] : [])],
    bans.map((b) => {
      const end = b.expiresAt === null ? null : Date.parse(b.expiresAt);
      return [
        b.jail,
        b.target,
        formatLocal(Date.parse(b.bannedAt)),
        end === null ? 'permanent' : formatLocal(end),
        end === null ? '-' : formatLeft(end - env.now),
        b.bantime,
        { text: String(b.banCount), right: true },
        appliedCell(b),
        ...(fleet ? [visible(b.origin ?? '-')] : []),
      ];
    }),
    env.paint,
  );
};

const formatAudit = (rows: AuditView[], env: LayoutEnv): string => {
  if (rows.length === 0) return 'no audit rows\n';
  const tone: Record<string, Tone> = { ban: 'bad', unban: 'good', 'action-failed': 'bad', 'action-repaired': 'warn' };
  return formatTable(
    ['TIME', 'JAIL', 'KIND', 'TARGET', 'DETAIL'],
    rows.map((x) => [
      formatLocal(Date.parse(x.at)),
      visible(x.jail),
      { text: x.kind, ...(tone[x.kind] ? { tone: tone[x.kind] } : {}) },
      x.target === null ? '-' : hostText(x.target),
      visible(x.detail),
    ]),
    env.paint,
  );
};

const formatCheck = (rows: CheckRow[], env: LayoutEnv): string => {
  if (rows.length === 0) return 'no actions to check\n';
  return formatTable(
    ['JAIL', 'ACTION', 'RESULT'],
    rows.map((c) => [
      c.jail,
      c.backend,
      !c.ok
        ? { text: `FAILED: ${visible(c.error ?? '')}`, tone: 'bad' }
        : c.repaired
          ? { text: `repaired: ${visible(c.repaired)}`, tone: 'warn' }
          : { text: 'in sync', tone: 'good' },
    ]),
    env.paint,
  );
};

const formatTest = (r: TestView, env: LayoutEnv, jail: string): string => {
  if (!r.match) return `no match: the filter of ${jail} does not match this line\n`;
  const d = r.decisions.length ? r.decisions.join(', ') : 'nothing (counted, below maxretry)';
  return (
    `match: ${visible(r.id)} at ${formatLocal(Date.parse(r.time))}\n` +
    `a fresh ${jail} jail would decide: ${r.decisions.includes('ban') ? env.paint('bad', d) : d}\n`
  );
};

const LAYOUTS: Record<Verb, Layout> = {
  status: (r, env, a) =>
    typeof a.jail === 'string'
      ? formatJailStatus(r as JailStatus, env.sources, env.now, env.paint)
      : formatDaemonStatus(r as DaemonStatus, env.now, env.paint),
  list: (r, env, a) => formatBans(r as BanView[], env, typeof a.jail === 'string' ? a.jail : undefined),
  audit: (r, env) => formatAudit(r as AuditView[], env),
  check: (r, env) => formatCheck(r as CheckRow[], env),
  ban: (r) => {
    const b = r as BanView | null;
    if (b === null) return 'nothing banned\n';
    const until = b.expiresAt === null ? 'permanently' : `until ${formatLocal(Date.parse(b.expiresAt))}`;
    return `banned ${b.target} in ${b.jail} ${until} (bantime ${b.bantime}, ban number ${b.banCount})\n`;
  },
  unban: (r, _env, a) => {
    const n = (r as { unbanned: number }).unbanned;
    const where = typeof a.jail === 'string' ? ` in ${a.jail}` : '';
    if (a.all === 1) return `${n} ban(s) lifted${where}\n`;
    return n === 0
      ? `${String(a.target)} was not banned${where}\n`
      : `unbanned ${String(a.target)} (${n} ban(s) lifted${where})\n`;
  },
  test: (r, env, a) => formatTest(r as TestView, env, String(a.jail)),
  banned: (r) => formatBanned(r as BannedRow[]),
  flush: (r) => {
    const x = r as { jail: string; unbanned: number };
    return `${x.jail}: ${x.unbanned} ban(s) lifted\n`;
  },
  get: (r) => {
    const v = (r as { value: unknown }).value;
    const text = (x: unknown): string => (typeof x === 'string' ? visible(x) : JSON.stringify(x));
    if (Array.isArray(v)) return v.map((x) => `${text(x)}\n`).join('');
    return `${v === null ? '(none)' : text(v)}\n`;
  },
  reload: (r) => {
    const x = r as { added: string[]; removed: string[]; reloaded: string[]; restartNeeded: string[] };
    const names = (l: string[]): string => (l.length ? l.join(', ') : 'none');
    return `reloaded: ${names(x.reloaded)}; added: ${names(x.added)}; removed: ${names(x.removed)}\n${
      x.restartNeeded.length ? `unchanged until a restart: ${x.restartNeeded.join(', ')}\n` : ''
    }`;
  },
};

// As `fail2ban-client banned`: per jail its banned targets, or per address the jails that ban it.
type BannedRow = { jail?: string; targets?: string[]; target?: string; jails?: string[] };
const formatBanned = (rows: BannedRow[]): string =>
  rows
    .map((x) =>
      x.jail !== undefined
        ? `${x.jail}\t${(x.targets ?? []).join(' ')}\n`
        : `${x.target ?? ''}\t${(x.jails ?? []).join(' ') || '(not banned)'}\n`,
    )
    .join('');

export const formatReply = (verb: Verb, r: unknown, env: LayoutEnv, args: Record<string, string | number>): string =>
  LAYOUTS[verb](r, env, args);
