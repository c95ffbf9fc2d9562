import type { JailCounters } from './controlled.js';
import type { BanView } from './layout-views.js';
import type { Paint } from './layout-style.js';
import { formatTable } from './layout-table.js';
import { formatLocal, formatWhen } from './layout-time.js';

// `status` and `status JAIL` as fail2ban-client 1.0.2 prints them, byte for byte (a TAB after each label), then
// what only sentryban counts, below a blank line. fail2ban's block is never coloured: scripts read it.

// Where a jail reads from, as the daemon's `get JAIL logpath|journalmatch` says: files or journal matches.
export type JailSources = { kind: 'files'; paths: string[] } | { kind: 'journal'; matches: string[] | null } | null;

export type JailStatus = JailCounters & { notApplied: number; bans: BanView[] };
export type ActionHealth = {
  jail: string;
  backend: string;
  inSync: boolean;
  failures: number;
  checking: boolean;
  nextRetryAt: string | null;
  lastError: string | null;
};
export type StoreView = {
  path: string;
  state: string;
  since: string | null;
  queued: number;
  dropped: { rows: number; bans: number; unbans: number };
  lastError: string | null;
  nextProbeAt: string | null;
};
export type DaemonStatus = {
  jails: (JailCounters & { notApplied: number })[];
  actions: ActionHealth[];
  store: StoreView;
  nextExpiry: string | null;
  memory: { rssMiB: number; heapUsedMiB: number; heapTotalMiB: number; externalMiB: number };
};

const sourcesLine = (s: JailSources): string => {
  if (s === null) return 'File list:\t(unknown: this daemon does not answer `get`)';
  if (s.kind === 'files') return `File list:\t${s.paths.join(' ')}`;
  return `Journal matches:\t${s.matches === null ? "(the filter's journalmatch)" : s.matches.join(' + ')}`;
};

export const formatJailStatus = (j: JailStatus, sources: JailSources, now: number, paint: Paint): string => {
  const ends = j.bans.map((b) => b.expiresAt).filter((e): e is string => e !== null);
  const next = ends.length ? ends.reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b)) : null;
  return (
    `Status for the jail: ${j.jail}\n` +
    `|- Filter\n` +
    `|  |- Currently failed:\t${j.counting}\n` +
    `|  |- Total failed:\t${j.failures}\n` +
    `|  \`- ${sourcesLine(sources)}\n` +
    '`- Actions\n' +
    `   |- Currently banned:\t${j.banned}\n` +
    `   |- Total banned:\t${j.bansTotal}\n` +
    `   \`- Banned IP list:\t${j.bans.map((b) => b.target).join(' ')}\n` +
    '\n' +
    `Lines read:    ${j.lines}\n` +
    `Not applied:   ${j.notApplied === 0 ? '0' : paint('bad', `${j.notApplied} (\`sentryban list ${j.jail}\`)`)}\n` +
    `Next expiry:   ${formatWhen(next, now, j.bans.length ? 'none (permanent bans only)' : 'none')}\n`
  );
};

export const formatDaemonStatus = (s: DaemonStatus, now: number, paint: Paint): string => {
  const names = s.jails.map((j) => j.jail).sort();
  const jails = [...s.jails].sort((a, b) => (a.jail < b.jail ? -1 : a.jail > b.jail ? 1 : 0));
  const n = (v: number) => ({ text: String(v), right: true });
  const table = formatTable(
    ['JAIL', 'LINES', 'FAILED', 'COUNTING', 'BANNED', 'TOTAL BANNED', 'NOT APPLIED'],
    jails.map((j) => [
      j.jail,
      n(j.lines),
      n(j.failures),
      n(j.counting),
      n(j.banned),
      n(j.bansTotal),
      { text: String(j.notApplied), right: true, ...(j.notApplied > 0 ? { tone: 'bad' as const } : {}) },
    ]),
    paint,
  );
  const m = s.memory;
  return (
    'Status\n' +
    `|- Number of jail:\t${names.length}\n` +
    `\`- Jail list:\t${names.join(', ')}\n` +
    '\n' +
    (jails.length ? `${table}\n` : '') +
    `Actions:       ${formatActions(s.actions, now, paint)}` +
    `Store:         ${formatStore(s.store, now, paint)}\n` +
    `Next expiry:   ${formatWhen(s.nextExpiry, now, 'none')}\n` +
    `Memory:        ${m.rssMiB} MiB resident ` +
    `(heap ${m.heapUsedMiB} of ${m.heapTotalMiB} MiB, external ${m.externalMiB} MiB)\n`
  );
};

const formatActions = (actions: ActionHealth[], now: number, paint: Paint): string => {
  const out = actions.filter((a) => !a.inSync);
  if (out.length === 0) return `${actions.length} in sync\n`;
  const rows = out.map(
    (a) =>
      `  ${a.jail} ${a.backend}: ${a.failures} failure(s), ` +
      `${a.checking ? 'checking now' : `next retry ${formatWhen(a.nextRetryAt, now, 'none planned')}`}` +
      `${a.lastError ? `: ${a.lastError}` : ''}\n`,
  );
  return `${paint('bad', `${out.length} of ${actions.length} out of sync`)}\n${rows.join('')}`;
};

const formatStore = (s: StoreView, now: number, paint: Paint): string => {
  if (s.state === 'ok') return `ok (${s.path})`;
  const d = s.dropped;
  const lost =
    d.rows + d.bans + d.unbans > 0 ? `, dropped ${d.bans} ban(s), ${d.unbans} lift(s), ${d.rows} row(s)` : '';
  return (
    paint('bad', `${s.state}${s.since === null ? '' : ` since ${formatLocal(Date.parse(s.since))}`}`) +
    ` (${s.path}): ${s.queued} write(s) queued${lost}, next probe ${formatWhen(s.nextProbeAt, now, 'none')}` +
    `${s.lastError ? `; ${s.lastError}` : ''}`
  );
};
