import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { corpusLines } from './lib/corpus.js';
import { median } from './lib/measure.js';

// `sentryban replay` (every line through the sshd jail's full logic: findtime, maxretry, bans and their expiry in
// log time, a timeline of every ban) against `sentryban regex` (matching only, the same filter, its default threads
// and one thread) on the same generated auth.log, 1,000,000 lines varied as production ones (bench/lib/corpus.ts:
// sessions, 20% IPv6, ~35,000 addresses). fail2ban has no replay: its nearest is fail2ban-regex with the stock sshd
// filter, which only matches (no jail logic), so its time is a lower bound of what fail2ban would need. Replay
// matches in a worker thread for a file this size; it runs once more with everything on one thread, the peer
// that shows what the worker gains.
// Medians of RUNS interleaved runs (REPLAY_BENCH_RUNS overrides); the wall time and the CPU time (user + system) of
// the whole command, and its peak RSS.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LINES = 1_000_000;
const RUNS = 3;
const STOCK = '/etc/fail2ban/filter.d/sshd.conf';

type Run = { sec: number; cpu: number; rssMb: number; tail: string };
const timed = async (argv: string[], env: Record<string, string> = {}): Promise<Run> => {
  const r = await execa('/usr/bin/time', ['-f', '%e %U %S %M', ...argv], {
    cwd: ROOT,
    reject: false,
    timeout: 900_000,
    env: { TZ: 'UTC', ...env },
    maxBuffer: 1 << 30,
  });
  const [sec, user, sys, rss] = (r.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  const lines = r.stdout.trimEnd().split('\n');
  const tail = lines.filter((l) => /^Lines: |^sshd: |"type":"summary"/.test(l)).join(' ') || r.stderr.slice(0, 200);
  return { sec: sec ?? NaN, cpu: (user ?? NaN) + (sys ?? NaN), rssMb: (rss ?? NaN) / 1024, tail };
};
type Figure = { sec: number; cpu: number; rssMb: number; tail: string; all: number[] };
const figure = (runs: Run[]): Figure => ({
  sec: median(runs.map((r) => r.sec)),
  cpu: median(runs.map((r) => r.cpu)),
  rssMb: median(runs.map((r) => r.rssMb)),
  tail: runs[0]?.tail ?? '',
  all: runs.map((r) => r.sec),
});
const writeLog = async (file: string): Promise<void> => {
  const out = createWriteStream(file);
  let buf = '';
  for (const l of corpusLines('sshd', LINES, 1, 'native')) {
    buf += `${l}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  await new Promise<void>((r, j) => out.end(buf, () => r()).once('error', j));
};

export async function main(_args: string[]): Promise<void> {
  const runs = Number(process.env.REPLAY_BENCH_RUNS ?? RUNS);
  const dir = mkdtempSync(join(tmpdir(), 'sentryban-replay-bench-'));
  try {
    const log = join(dir, 'auth.log');
    await writeLog(log);
    // The sshd jail as shipped (bundled filter, fail2ban's defaults); no ignoreip, so every address counts.
    mkdirSync(join(dir, 'config', 'jails'), { recursive: true });
    writeFileSync(join(dir, 'config', 'sentryban.yaml'), `state: ${join(dir, 'state')}\n`);
    writeFileSync(
      join(dir, 'config', 'jails', 'sshd.yaml'),
      'sshd:\n  filter: sshd\n  logpath: /var/log/auth.log\n  ignoreself: false\n',
    );
    const sb = ['node', 'bin/sentryban'];
    const replay = [...sb, 'replay', '--config', join(dir, 'config'), log];
    const cases: Array<{ name: string; argv: string[]; env?: Record<string, string> }> = [
      { name: 'regex', argv: [...sb, 'regex', log, 'sshd'] },
      { name: 'regex --threads 1', argv: [...sb, 'regex', '--threads', '1', log, 'sshd'] },
      { name: 'replay', argv: replay },
      { name: 'replay --json', argv: [...sb, 'replay', '--json', '--config', join(dir, 'config'), log] },
      { name: 'fail2ban-regex', argv: ['fail2ban-regex', log, STOCK] },
      // The matching on the main thread too (SENTRYBAN_REPLAY_THREAD=0): what the worker thread gains.
      { name: 'replay, one thread', argv: replay, env: { SENTRYBAN_REPLAY_THREAD: '0' } },
    ];
    const load = loadavg()
      .map((x) => x.toFixed(1))
      .join(' ');
    console.log(
      `machine: 2 cores shared (load average ${load} at start); ${LINES.toLocaleString('en-US')} generated sshd lines ` +
        `(bench/lib/corpus.ts, seed 1, BSD syslog dates), the same file for all; median of ${runs} interleaved runs`,
    );
    const out: Run[][] = cases.map(() => []);
    // Interleaved (each command once per round) so that load from other processes falls on all of them alike.
    for (let i = 0; i < runs; i++) for (const [k, c] of cases.entries()) out[k]?.push(await timed(c.argv, c.env));
    const [regex, regex1, rep, repJson, f2b, rep1] = out.map(figure) as [
      Figure,
      Figure,
      Figure,
      Figure,
      Figure,
      Figure,
    ];
    const s = (x: number): string => `${x.toFixed(2)} s`;
    const row = (name: string, f: Figure): string =>
      `  ${name.padEnd(18)} wall ${s(f.sec)} (runs ${f.all.map((x) => x.toFixed(2)).join(', ')}), CPU ${s(f.cpu)}, ` +
      `peak RSS ${f.rssMb.toFixed(0)} MB`;
    for (const [k, c] of cases.entries()) console.log(row(c.name, out[k] ? figure(out[k]) : rep));
    console.log(
      `replay-throughput: replay ${s(rep.sec)} vs sentryban regex ${s(regex.sec)} on the same file: ` +
        `${(rep.sec / regex.sec).toFixed(2)}x its time (goal: at most 1.5x); vs regex on one thread ` +
        `${(rep.sec / regex1.sec).toFixed(2)}x; CPU ${(rep.cpu / regex.cpu).toFixed(2)}x regex's`,
    );
    console.log(
      `replay-throughput: fail2ban-regex (matching only, no replay) ${s(f2b.sec)}: replay is ` +
        `${(f2b.sec / rep.sec).toFixed(1)}x faster with the jail logic on top; --json ${s(repJson.sec)}`,
    );
    console.log(
      `replay-throughput: replay with its matching on the main thread too ${s(rep1.sec)} (CPU ${s(rep1.cpu)}): ` +
        `with the worker thread ${(100 * (rep.sec / rep1.sec - 1)).toFixed(0)}% of that time (negative: faster; the ` +
        `worker only pays when the machine has a core to spare)`,
    );
    console.log(`  summaries: regex [${regex.tail}] replay [${rep.tail}] fail2ban-regex [${f2b.tail.slice(0, 120)}]`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
