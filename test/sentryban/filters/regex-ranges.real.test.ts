import { afterAll, describe, expect } from '@jest/globals';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { LOGS } from './fail-json.js';

// `sentryban regex --threads N` cuts a file into pieces (N for these small files): the main thread matches the
// first, worker threads the others (from the last backward), each after a warm-up replay of the bytes before
// it; a piece's counts are taken only when its start state equals the state the piece before it ended with (else
// the main thread matches the rest in order). These tests hold its summary to the one-thread summary,
// byte for byte, on every stock filter's sample log and on generated logs whose sshd sessions cross the range
// boundaries, with warm-ups too short (re-run) and long enough (ranges taken). runRegex from dist/ (npm test
// builds it) runs in one node process: workers need the compiled regex-worker.js.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FILTER_D = '/etc/fail2ban/filter.d';
const NOW = Date.UTC(2026, 10, 25, 5);
const tmp = makeTmpDir('sentryban-ranges-');
afterAll(() => tmp.cleanup());

// here: SENTRYBAN_REGEX_HERE (at most that many pieces in the main thread; null: as the timing goes).
type Job = { log: string; filter: string; threads: number; warm: number | null; here?: number | null };
type Out = { code: number; out: string; err: string };

const RUNNER = `const { runRegex } = await import(process.env.SB_REGEX);
const { Writable } = await import('node:stream');
const { readFileSync } = await import('node:fs');
const sink = () => { const w = new Writable({ write(c, _e, cb) { w.text += c; cb(); } }); w.text = ''; return w; };
const res = [];
for (const j of JSON.parse(readFileSync(process.argv[1], 'utf8'))) {
  if (j.warm === null) delete process.env.SENTRYBAN_REGEX_WARMUP; else process.env.SENTRYBAN_REGEX_WARMUP = String(j.warm);
  if (j.here === null) delete process.env.SENTRYBAN_REGEX_HERE; else process.env.SENTRYBAN_REGEX_HERE = String(j.here ?? 1);
  const out = sink(); const err = sink();
  const code = await runRegex(['--threads', String(j.threads), j.log, j.filter], out, err, { now: ${NOW} });
  res.push({ code, out: out.text, err: err.text });
}
process.stdout.write(JSON.stringify(res));`;

const runAll = async (jobs: Job[]): Promise<Out[]> => {
  const file = join(tmp.dir, `jobs-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(jobs));
  const r = await execa('node', ['--input-type=module', '-e', RUNNER, file], {
    cwd: ROOT,
    reject: false,
    timeout: 240_000,
    maxBuffer: 1 << 28,
    env: { TZ: 'UTC', SENTRYBAN_REGEX_DEBUG: '1', SB_REGEX: join(ROOT, 'dist/sentryban/commands/regex.js') },
  });
  if (r.exitCode !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Out[];
};

// Generated sshd traffic: sessions (one pid and address each) interleaved with cron noise, comments and empty
// lines. Sessions end by too many failures (its line carries no address: the session cache supplies it), an
// accepted login, or a closed connection. `longSession`: one session stays open from the first line to the last,
// and the others all end in a way that ends them in the session cache too (which then never fills and evicts).
const sessionsLog = (n: number, seed: number, longSession: boolean): string => {
  let s = seed;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const ts = (i: number): string => {
    const t = new Date(Date.UTC(2026, 10, 24) + i * 7000);
    return `Nov 24 ${t.toISOString().slice(11, 19)}`;
  };
  type S = { pid: number; a: string; u: string; left: number };
  const open: S[] = [];
  const out: string[] = [];
  let pid = 2000;
  const long: S = { pid: 999, a: '203.0.113.99', u: 'oracle', left: 1 };
  if (longSession) out.push(`${ts(0)} srv sshd[999]: Connection from 203.0.113.99 port 4000 on 192.0.2.1 port 22`);
  for (let i = 1; out.length < n; i++) {
    const x = rnd();
    if (x < 0.05) {
      out.push(x < 0.02 ? '' : '# a comment');
      continue;
    }
    if (x < 0.35) {
      out.push(`${ts(i)} srv CRON[${pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`);
      continue;
    }
    if (open.length < 12 && (x < 0.5 || open.length === 0)) {
      const k = Math.floor(rnd() * 60);
      const sess = { pid: pid++, a: `198.51.100.${k}`, u: k % 3 ? 'root' : 'admin', left: 2 + Math.floor(rnd() * 5) };
      open.push(sess);
      out.push(`${ts(i)} srv sshd[${sess.pid}]: Connection from ${sess.a} port ${1024 + k} on 192.0.2.1 port 22`);
      continue;
    }
    const j = Math.floor(rnd() * open.length);
    const t = open[j] as S;
    if (--t.left > 0) {
      out.push(`${ts(i)} srv sshd[${t.pid}]: Failed password for ${t.u} from ${t.a} port 4000 ssh2`);
      continue;
    }
    open.splice(j, 1);
    const end = rnd();
    if (end < 0.4 && !longSession)
      out.push(`${ts(i)} srv sshd[${t.pid}]: Disconnecting: Too many authentication failures for ${t.u} [preauth]`);
    else if (end < 0.6)
      out.push(`${ts(i)} srv sshd[${t.pid}]: Accepted password for ${t.u} from ${t.a} port 4000 ssh2`);
    else out.push(`${ts(i)} srv sshd[${t.pid}]: Connection closed by ${t.a} port 4000 [preauth]`);
  }
  if (longSession)
    out.push(`${ts(n)} srv sshd[${long.pid}]: Disconnecting: Too many authentication failures for ${long.u} [preauth]`);
  return `${out.join('\n')}\n`;
};

const noteOf = (o: Out): { ranges: number; taken: number; of: number; rerun: boolean } | null => {
  const m = /(\d+) ranges, (\d+) of (\d+) taken from threads.*?(, re-run)?$/m.exec(o.err);
  return m ? { ranges: Number(m[1]), taken: Number(m[2]), of: Number(m[3]), rerun: m[4] !== undefined } : null;
};

describe('sentryban regex in ranges (worker threads) prints the one-thread summary', () => {
  itReal({ commands: ['fail2ban-regex'] })(
    'on every stock filter sample log, cut in 2 to 12 ranges',
    async () => {
      const names = readdirSync(FILTER_D)
        .filter((n) => n.endsWith('.conf'))
        .map((n) => n.slice(0, -5))
        .filter((n) => existsSync(join(LOGS, n)));
      expect(names.length).toBeGreaterThan(50);
      const multi = new Set(['ejabberd-auth', 'guacamole', 'slapd', 'mongodb-auth']); // maxlines > 1
      const jobs: Job[] = [];
      for (const name of names) {
        const base = { log: join(LOGS, name), filter: join(FILTER_D, `${name}.conf`) };
        jobs.push(
          { ...base, threads: 1, warm: null },
          { ...base, threads: 3, warm: null },
          { ...base, threads: 2, warm: 0 },
          { ...base, threads: 4, warm: 300 },
        );
        if (multi.has(name))
          for (const threads of [5, 8, 12]) for (const warm of [0, 150, 600]) jobs.push({ ...base, threads, warm });
      }
      const res = await runAll(jobs);
      let one: Out | undefined;
      let split = 0;
      let taken = 0;
      let rerun = 0;
      for (const [i, j] of jobs.entries()) {
        const o = res[i] as Out;
        if (j.threads === 1) {
          one = o;
          expect(o.out).toMatch(/Lines: \d+ lines/);
          continue;
        }
        expect({ log: j.log, threads: j.threads, warm: j.warm, out: o.out, code: o.code }).toEqual({
          log: j.log,
          threads: j.threads,
          warm: j.warm,
          out: one?.out,
          code: one?.code,
        });
        const note = noteOf(o);
        if (note) {
          split++;
          taken += note.taken;
          if (note.rerun) rerun++;
        }
      }
      console.log(
        `ranges: ${names.length} sample logs, ${split} split runs identical to one thread (${taken} ranges taken, ${rerun} re-run)`,
      );
      expect(split).toBeGreaterThan(names.length * 2);
      expect(taken).toBeGreaterThan(100);
      expect(rerun).toBeGreaterThan(10);
    },
    240_000,
  );

  itReal({ commands: ['fail2ban-regex'] })(
    'on generated sshd sessions crossing the range boundaries (stock and our sshd filter)',
    async () => {
      const bounded = join(tmp.dir, 'sessions.log');
      const long = join(tmp.dir, 'long.log');
      writeFileSync(bounded, sessionsLog(30_000, 7, false));
      writeFileSync(long, sessionsLog(30_000, 11, true));
      const jobs: Job[] = [];
      for (const filter of [join(FILTER_D, 'sshd.conf'), join(ROOT, 'filters', 'sshd.yaml')]) {
        for (const log of [bounded, long]) {
          jobs.push({ log, filter, threads: 1, warm: null });
          for (const threads of [2, 3, 5])
            for (const warm of [0, 3000, 200_000]) jobs.push({ log, filter, threads, warm });
        }
      }
      const res = await runAll(jobs);
      let one: Out | undefined;
      for (const [i, j] of jobs.entries()) {
        const o = res[i] as Out;
        if (j.threads === 1) {
          one = o;
          continue;
        }
        expect({ ...j, out: o.out }).toEqual({ ...j, out: one?.out });
        const note = noteOf(o);
        expect(note?.ranges).toBe(j.threads);
        // Sessions last at most ~100 lines: 200 kB of warm-up rebuilds the state; the session open from the first
        // line to the last cannot be rebuilt by any warm-up shorter than the file (stock filter: its cache).
        if (j.log === bounded && j.warm === 200_000)
          expect(note).toEqual({ ranges: j.threads, taken: j.threads - 1, of: j.threads - 1, rerun: false });
        if (j.log === bounded && j.warm === 0 && j.filter.endsWith('sshd.conf')) expect(note?.rerun).toBe(true);
        if (j.log === long && j.filter.endsWith('sshd.conf')) expect(note?.rerun).toBe(true);
      }
      const summary = (res[0] as Out).out;
      expect(summary).toMatch(/Lines: 2\d{4} lines, \d+ ignored, [1-9]\d+ matched/);
    },
    240_000,
  );

  itReal({ commands: ['fail2ban-regex'] })(
    'on a 21 MB log cut in more pieces than threads that the main thread and the workers race for',
    async () => {
      const big = join(tmp.dir, 'big.log');
      const text = sessionsLog(250_000, 5, false);
      writeFileSync(big, text);
      // Eight pieces per thread, of 4 MiB or more.
      const pieces = (threads: number): number =>
        Math.max(threads, Math.min(threads * 8, Math.floor(Buffer.byteLength(text) / (4 << 20))));
      expect(pieces(2)).toBeGreaterThan(2);
      const filter = join(FILTER_D, 'sshd.conf');
      const jobs: Job[] = [{ log: big, filter, threads: 1, warm: null }];
      for (const threads of [2, 3])
        jobs.push(
          { log: big, filter, threads, warm: null, here: null },
          { log: big, filter, threads, warm: null, here: 2 },
        );
      const res = await runAll(jobs);
      for (const [i, j] of jobs.entries()) {
        if (i === 0) continue;
        const o = res[i] as Out;
        expect({ ...j, out: o.out }).toEqual({ ...j, out: res[0]?.out });
        const note = noteOf(o);
        expect(note?.ranges).toBe(pieces(j.threads));
        expect(note?.rerun).toBe(false);
        // At most 2 pieces here (piece 0 always): the workers, which get the main thread's filter, can claim
        // piece 1 before the main thread is done with piece 0.
        if (j.here === 2) expect([pieces(j.threads) - 2, pieces(j.threads) - 1]).toContain(note?.of);
      }
    },
    240_000,
  );
});
