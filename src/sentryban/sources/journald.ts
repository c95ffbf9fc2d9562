import { createInterface } from 'node:readline';
import { execa } from 'execa';
import type { LogLine } from '../types.js';

export type JournalEntry = Record<string, unknown>;
export type JournalLine = { line: LogLine; timeMs: number };

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : Array.isArray(v) ? undefined : v === undefined ? undefined : String(v));

// The line fail2ban builds from a journal entry: "<host> <ident>[<pid>]: <message>", newlines as literal "\n";
// the entry's own realtime stamp is the time (no date detection).
export const formatJournalEntry = (e: JournalEntry, source: string): JournalLine | null => {
  let msg = e.MESSAGE;
  if (Array.isArray(msg)) msg = Buffer.from(msg as number[]).toString('utf8');
  if (typeof msg !== 'string') return null;
  const host = str(e._HOSTNAME) ?? '';
  const ident = str(e.SYSLOG_IDENTIFIER) ?? str(e._COMM) ?? '';
  const pid = str(e.SYSLOG_PID) ?? str(e._PID);
  const text = `${host} ${ident}${pid ? `[${pid}]` : ''}: ${msg.replace(/\n/g, '\\n')}`;
  const us = Number(str(e.__REALTIME_TIMESTAMP) ?? NaN);
  return { line: { text, source }, timeMs: Number.isFinite(us) ? Math.floor(us / 1000) : Date.now() };
};

// journalctl argv for a filter's journalmatch lines (terms split on spaces, "+" kept as journalctl's OR).
export const journalctlArgv = (journalmatch: readonly string[], fromStart = false): string[] =>
  ['journalctl', '-f', '-o', 'json', ...(fromStart ? [] : ['-n', '0']), ...journalmatch.flatMap((m) => m.split(/\s+/).filter(Boolean))];

// Follows the journal through `journalctl -f -o json`; returns a stop function.
export const followJournal = (journalmatch: readonly string[], onLine: (l: JournalLine) => void, onError: (e: Error) => void): (() => void) => {
  const [cmd, ...args] = journalctlArgv(journalmatch);
  const child = execa(cmd as string, args, { buffer: false, reject: false, stdin: 'ignore' });
  const source = `journal:${journalmatch.join(' ')}`;
  if (child.stdout) {
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (raw) => {
      try { const l = formatJournalEntry(JSON.parse(raw) as JournalEntry, source); if (l) onLine(l); } catch (e) { onError(e as Error); }
    });
  }
  child.then((r) => { if (r.exitCode !== 0 && !r.isTerminated) onError(new Error(`journalctl exited ${r.exitCode}: ${String(r.stderr ?? '').slice(0, 200)}`)); }, onError);
  return () => { child.kill(); };
};
