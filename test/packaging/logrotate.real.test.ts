import { afterAll, describe, expect } from '@jest/globals';
import { execa } from 'execa';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { itReal } from '../helpers/real.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { denyLines, kill9, repo, startDaemon, writeConfig, type Running } from '../sentryban/daemon/run-daemon.js';

// The real logrotate binary (its state file in a temp dir) on two logs while the real daemon runs:
// - sentryban's own log, rotated by packaging/logrotate/sentryban (only its path changed to the temp dir);
// - a followed auth.log, rotated as Debian's rsyslog snippet does (create, delaycompress, postrotate that tells
//   the writer to reopen). The writer here plays rsyslogd: it keeps its fd, so lines written after the rename and
//   before the "HUP" land in auth.log.1.
// Every line written before, during and after the rotations is read exactly once, and a ban still happens.
const t = makeTmpDir('sentryban-logrotate-');
const dir = t.dir;
const state = join(dir, 'state');
const ownLog = join(state, 'sentryban.log');
const authLog = join(dir, 'auth.log');
const hupMarker = join(dir, 'rsyslog-hup');
let d: Running | null = null;
let fd: number | null = null;
afterAll(async () => {
  if (fd !== null) closeSync(fd);
  if (d && d.proc.exitCode === null) await kill9(d).catch(() => {});
  t.cleanup();
});

// packaging/logrotate/sentryban with its one path pointed at the test's state folder.
const ownSnippet = (): string => {
  const text = readFileSync(join(repo, 'packaging/logrotate/sentryban'), 'utf8');
  expect(text).toContain('/var/lib/sentryban/sentryban.log {');
  return text.replace('/var/lib/sentryban/sentryban.log {', `${ownLog} {`);
};
// Debian's /etc/logrotate.d/rsyslog stanza for auth.log (with logrotate.conf's global `create`); its postrotate
// (/usr/lib/rsyslog/rsyslog-rotate, a HUP to rsyslogd) becomes a marker the writer below reacts to.
const rsyslogSnippet = (): string =>
  [
    `${authLog}`,
    '{',
    '\trotate 4',
    '\tweekly',
    '\tmissingok',
    '\tnotifempty',
    '\tcompress',
    '\tdelaycompress',
    '\tsharedscripts',
    '\tcreate',
    '\tpostrotate',
    `\t\ttouch ${hupMarker}`,
    '\tendscript',
    '}',
    '',
  ].join('\n');

// One unique address per line, so "read exactly once" is "Found once" in sentryban's log.
let n = 0;
const write = (addrs: string[]): string[] => {
  const at = new Date().toISOString();
  for (const a of addrs) writeSync(fd as number, `${at} sshd auth failure from ${a}\n`);
  return addrs;
};
const fresh = (k: number): string[] =>
  Array.from({ length: k }, () => {
    n++;
    return n <= 250 ? `198.51.100.${n}` : `203.0.113.${n - 250}`;
  });

// sentryban's log now: the live file, its uncompressed and its compressed rotations, and the file logrotate's
// `create` moves aside (sentryban.log-YYYYMMDDHH.backup) when the daemon wrote a line between its rename and create.
const ownLogText = (): string => {
  let text = '';
  const backups = readdirSync(state)
    .filter((f) => /^sentryban\.log-\d+\.backup$/.test(f))
    .map((f) => join(state, f));
  for (const f of [ownLog, `${ownLog}.1`, `${ownLog}.2.gz`, `${ownLog}.3.gz`, ...backups])
    if (existsSync(f)) text += f.endsWith('.gz') ? gunzipSync(readFileSync(f)).toString() : readFileSync(f, 'utf8');
  return text;
};
const found = (text: string, addr: string): number => text.split(`] Found ${addr} - `).length - 1;

const rotate = async (): Promise<void> => {
  const conf = join(dir, 'logrotate.conf');
  writeFileSync(conf, `${rsyslogSnippet()}\n${ownSnippet()}`);
  const r = await execa('logrotate', ['-s', join(dir, 'logrotate.state'), '-f', conf], {
    reject: false,
    timeout: 30_000,
  });
  expect([r.exitCode, r.stderr]).toEqual([0, '']);
};
// The writer's reaction to the postrotate "HUP": close the renamed file, open the new one.
const reopen = (): void => {
  expect(existsSync(hupMarker)).toBe(true);
  closeSync(fd as number);
  fd = openSync(authLog, 'a');
};

describe('logrotate', () => {
  itReal({ commands: ['logrotate'] })(
    'sentryban reads a followed log through two real rotations, and its own log rotates by the snippet',
    async () => {
      writeConfig(dir, {
        sshd: `sshd:\n  logpath: ${authLog}\n  failregex: 'sshd auth failure from <HOST>$'\n  maxretry: 3\n  findtime: 1h\n  bantime: 1h\n  ignoreself: false\n  actions: [deny]\n`,
      });
      writeFileSync(authLog, '');
      fd = openSync(authLog, 'a');
      d = await startDaemon(dir);
      const banned = '192.0.2.7';
      const all: string[] = [];
      // before: read before any rotation (sentryban's log is not empty, so notifempty rotates it)
      all.push(...write(fresh(20)));
      write([banned]);
      await waitFor(() => [...all, banned].every((a) => found(ownLogText(), a) === 1), {
        what: 'lines before the rotation',
      });
      for (let round = 1; round <= 2; round++) {
        // pending: written just before the rename, not yet read (the daemon polls on its own time)
        all.push(...write(fresh(20)));
        await rotate();
        // during: the writer has not reopened yet, these land in auth.log.1 through its old fd
        all.push(...write(fresh(20)));
        if (round === 1) write([banned]);
        reopen();
        // after: in the new auth.log
        all.push(...write(fresh(20)));
        if (round === 2) write([banned]);
        await waitFor(() => all.every((a) => found(ownLogText(), a) >= 1), {
          what: `every line of round ${round}`,
          timeoutMs: 20_000,
        });
      }
      await waitFor(() => denyLines(dir).some((l) => l.includes(banned)), { what: 'the ban' });
      // Wait for the Ban line itself, then check nothing was read twice.
      await waitFor(() => ownLogText().includes(`Ban ${banned}\n`), { what: 'the Ban line' });
      const text = ownLogText();
      expect(all.filter((a) => found(text, a) !== 1)).toEqual([]);
      expect(found(text, banned)).toBe(3);
      expect(text.split(`Ban ${banned}\n`).length - 1).toBe(1);
      // The rotations happened: auth.log twice (.1 plain, .2.gz compressed), sentryban's log by the snippet.
      expect(['auth.log.1', 'auth.log.2.gz'].map((f) => existsSync(join(dir, f)))).toEqual([true, true]);
      expect(existsSync(`${ownLog}.1`)).toBe(true);
      // The daemon went on writing to the file logrotate created (create 0640 root adm), no reopen needed.
      expect(found(readFileSync(ownLog, 'utf8'), banned)).toBe(1);
      const st = statSync(ownLog);
      expect([st.mode & 0o777, st.gid]).toEqual([0o640, 4]);
      expect(d.output()).not.toMatch(/ERROR/);
    },
    90_000,
  );
});
