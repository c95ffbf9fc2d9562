import { execa, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

// A real journal without systemd running: systemd-journal-remote turns export-format entries written to its stdin
// into a journal file in `dir`, live, so `journalctl --directory dir --follow` sees them as they come.
export const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote';

export type Entry = Record<string, string> & { MESSAGE: string };

export class JournalLab {
  readonly dir: string;
  readonly #proc: ResultPromise;
  readonly #boot = randomBytes(16).toString('hex');
  #mono = 1;

  constructor(dir: string) {
    this.dir = dir;
    this.#proc = execa(JOURNAL_REMOTE, [`--output=${join(dir, 'remote.journal')}`, '-'], {
      stdin: 'pipe',
      reject: false,
      buffer: false,
      timeout: 300_000,
    });
  }

  // One entry per record, with its own realtime stamp (µs; default now) and the usual trusted fields.
  append(entries: readonly Entry[], realtimeUs?: (i: number) => number): void {
    let out = '';
    entries.forEach((e, i) => {
      const fields: Record<string, string> = {
        __REALTIME_TIMESTAMP: String(realtimeUs ? realtimeUs(i) : Date.now() * 1000),
        __MONOTONIC_TIMESTAMP: String(this.#mono++),
        _BOOT_ID: this.#boot,
        _HOSTNAME: 'lab',
        ...e,
      };
      for (const [k, v] of Object.entries(fields)) {
        if (v.includes('\n')) {
          const b = Buffer.from(v);
          const len = Buffer.alloc(8);
          len.writeBigUInt64LE(BigInt(b.length));
          out += `${k}\n${len.toString('latin1')}${b.toString('latin1')}\n`;
        } else out += `${k}=${Buffer.from(v).toString('latin1')}\n`;
      }
      out += '\n';
    });
    this.#proc.stdin?.write(Buffer.from(out, 'latin1'));
  }

  async close(): Promise<void> {
    this.#proc.stdin?.end();
    await this.#proc;
  }
}

export const sshd = (msg: string, pid = '42'): Entry => ({
  _SYSTEMD_UNIT: 'ssh.service',
  _COMM: 'sshd',
  SYSLOG_IDENTIFIER: 'sshd',
  _PID: pid,
  MESSAGE: msg,
});
export const cron = (msg: string): Entry => ({
  _SYSTEMD_UNIT: 'cron.service',
  _COMM: 'cron',
  SYSLOG_IDENTIFIER: 'CRON',
  _PID: '7',
  MESSAGE: msg,
});
