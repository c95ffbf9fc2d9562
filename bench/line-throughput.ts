import { execa } from 'execa';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from '../src/sentryban/control/client.js';
import { corpusLines } from './lib/corpus.js';
import { freePort, median, sleep } from './lib/measure.js';

// line-throughput: the daemon's own line path (follower, splitter, matcher, the manager's counting) on a burst of
// varied sshd lines (bench/lib/corpus.ts: sessions, IPv6, ~35,000 addresses per million) appended at once to a
// followed log, with the bundled sshd filter. Timed from the append until `status` says every line was read; the
// daemon's CPU time (utime + stime, start-up included) is the steadier figure on a shared machine.
// Runs with the metrics endpoint off and on (scraped every second), interleaved, RUNS times each
// (LINE_BENCH_RUNS, LINE_BENCH_LINES override); medians.
const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', '..', 'bin', 'sentryban');
const LINES = Number(process.env.LINE_BENCH_LINES ?? 300_000);
const RUNS = Number(process.env.LINE_BENCH_RUNS ?? 5);
const DEADLINE_MS = 180_000;
const TICK_S = 0.01; // USER_HZ on Linux

const cpuSeconds = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) * TICK_S;
};

type Run = { linesPerSec: number; cpuSec: number; scrapes: number };

const once = async (text: string, metrics: boolean): Promise<Run> => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-lines-'));
  const port = metrics ? await freePort() : 0;
  mkdirSync(join(dir, 'jails'));
  writeFileSync(
    join(dir, 'sentryban.yaml'),
    'state: state\nlogfile: sentryban.log\nactions:\n  deny:\n    backend: hostsdeny\n    file: hosts.deny\n' +
      (metrics ? `metrics: 127.0.0.1:${port}\n` : ''),
  );
  // maxretry high: every line is read, matched and counted; no ban's file rewrite is timed.
  writeFileSync(
    join(dir, 'jails', 'sshd.yaml'),
    'sshd:\n  filter: sshd\n  logpath: auth.log\n  maxretry: 1000000\n  findtime: 1d\n  ignoreself: false\n  actions: [deny]\n',
  );
  writeFileSync(join(dir, 'auth.log'), '');
  const proc = execa('node', [bin, 'daemon', '--foreground', '--config', dir], {
    reject: false,
    buffer: false,
    stdout: 'pipe',
    stderr: 'ignore',
  });
  try {
    let out = '';
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    for (let t = 0; !out.includes('ready'); t++) {
      if (t > 2000 || proc.exitCode !== null) throw new Error('sentryban did not start');
      await sleep(10);
    }
    let scrapes = 0;
    const failed: string[] = []; // a scrape the daemon did not answer, with when it was sent
    const t0 = performance.now();
    const scraper = metrics
      ? setInterval(() => {
          const at = Math.round(performance.now() - t0);
          void fetch(`http://127.0.0.1:${port}/metrics`)
            .then((r) => r.text())
            .then(
              () => scrapes++,
              (e: unknown) => failed.push(`${at} ms: ${String((e as Error).cause ?? e)}`),
            );
        }, 1000)
      : null;
    const sock = join(dir, 'state', 'sentryban.sock');
    const read = async (): Promise<number> => {
      const r = await request(sock, 'status', {});
      return r.ok ? ((r.result as { jails: { lines: number }[] }).jails[0]?.lines ?? 0) : 0;
    };
    const t1 = performance.now();
    appendFileSync(join(dir, 'auth.log'), text);
    while ((await read()) < LINES) {
      if (performance.now() - t1 > DEADLINE_MS) throw new Error(`not every line read in ${DEADLINE_MS} ms`);
      await sleep(20);
    }
    const ms = performance.now() - t1;
    if (scraper) clearInterval(scraper);
    await sleep(500); // a scrape in flight ends before the daemon does
    if (failed.length) throw new Error(`scrapes failed: ${failed.join('; ')}`);
    if (metrics && scrapes === 0) throw new Error('no scrape succeeded');
    return { linesPerSec: LINES / (ms / 1000), cpuSec: cpuSeconds(proc.pid ?? -1), scrapes };
  } finally {
    proc.kill('SIGTERM');
    await proc;
    rmSync(dir, { recursive: true, force: true });
  }
};

export async function main(): Promise<void> {
  const text = `${[...corpusLines('sshd', LINES, 7, 'native')].join('\n')}\n`;
  const runs: Record<'off' | 'on', Run[]> = { off: [], on: [] };
  const loads: number[] = [];
  for (let i = 0; i < RUNS; i++)
    for (const m of i % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
      loads.push(loadavg()[0] ?? NaN);
      runs[m].push(await once(text, m === 'on'));
    }
  const fmt = (rs: Run[]): string =>
    `${Math.round(median(rs.map((r) => r.linesPerSec)))} lines/s, CPU ${median(rs.map((r) => r.cpuSec)).toFixed(2)} s`;
  console.log(
    `line-throughput (${LINES} sshd lines, medians of ${RUNS} interleaved runs, load ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}): metrics off ${fmt(runs.off)}; metrics on (scraped every 1 s) ${fmt(runs.on)}`,
  );
}
