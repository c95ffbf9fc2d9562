import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

// `sentryban regex` vs `fail2ban-regex` on the same generated auth.log (seeded): lines/s and peak RSS,
// stock sshd filter and our YAML sshd filter; plus lines the prefix rejects. Medians of RUNS interleaved runs
// (REGEX_BENCH_RUNS overrides); fail2ban-regex reads the same 1,000,000 lines (about 20 s a run).
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LINES = 1_000_000;
const RUNS = 5;
const STOCK = '/etc/fail2ban/filter.d/sshd.conf';

// Small deterministic PRNG (mulberry32).
const rng = (seed: number) => () => {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const stamp = (sec: number): string => {
  const d = new Date(Date.UTC(2026, 10, 24) + sec * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${MON[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
};

export const generateAuthLog = (n: number, seed = 42, onlyRejected = false): string => {
  const r = rng(seed);
  // 10,000 distinct documentation addresses: 512 IPv4 (198.51.100.0/24, 203.0.113.0/24), the rest in 2001:db8::/32.
  const addr = (i: number): string =>
    i < 256
      ? `198.51.100.${i}`
      : i < 512
        ? `203.0.113.${i - 256}`
        : `2001:db8:${(i >> 8).toString(16)}::${(i & 255).toString(16)}`;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const ts = stamp(Math.floor((i * 86_400) / n));
    const pid = 1000 + Math.floor(r() * 30000);
    const x = onlyRejected ? 0.99 : r();
    const a = addr(Math.floor(r() * 10_000));
    if (x < 0.1)
      out.push(
        `${ts} vm sshd[${pid}]: Failed password for ${r() < 0.5 ? 'invalid user admin' : 'root'} from ${a} port ${1024 + Math.floor(r() * 60000)} ssh2`,
      );
    else if (x < 0.2)
      out.push(
        `${ts} vm sshd[${pid}]: Accepted publickey for alice from 192.0.2.10 port ${1024 + Math.floor(r() * 60000)} ssh2: ED25519 SHA256:Qm9vYmFy`,
      );
    else if (x < 0.3)
      out.push(`${ts} vm sshd[${pid}]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)`);
    else if (x < 0.4)
      out.push(`${ts} vm sshd[${pid}]: Received disconnect from 192.0.2.10 port 50022:11: disconnected by user`);
    else if (x < 0.75)
      out.push(`${ts} vm CRON[${pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`);
    else
      out.push(`${ts} vm sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl status`);
  }
  return `${out.join('\n')}\n`;
};

// A run: wall seconds from process start to exit (what the user sees), in-process seconds (reading and matching,
// without the interpreter's start-up: fail2ban-regex's own "[processed in X sec]", ours timed around runRegex in
// a fresh process), peak RSS.
type Run = { sec: number; inSec: number; rssKb: number; summary: string };
const timed = async (argv: string[]): Promise<Run> => {
  const r = await execa('/usr/bin/time', ['-f', '%e %M', ...argv], {
    cwd: ROOT,
    reject: false,
    timeout: 900_000,
    env: { TZ: 'UTC' },
  });
  const tl = r.stderr.trim().split('\n').at(-1) ?? '';
  const [sec, rss] = tl.split(' ').map(Number);
  const inproc = /\[processed in ([\d.]+) sec\]/.exec(r.stdout)?.[1] ?? /^in-process ([\d.]+)$/m.exec(r.stderr)?.[1];
  return {
    sec: sec ?? NaN,
    inSec: inproc === undefined ? NaN : Number(inproc),
    rssKb: rss ?? NaN,
    summary: r.stdout.match(/Lines: .*/)?.[0] ?? r.stderr.slice(0, 200),
  };
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
type Figure = { lps: number; inLps: number; rssMb: number; summary: string; all: number[] };
const figure = (runs: Run[], lines: number): Figure => ({
  lps: median(runs.map((r) => lines / r.sec)),
  inLps: median(runs.map((r) => lines / r.inSec)),
  rssMb: median(runs.map((r) => r.rssKb / 1024)),
  summary: runs[0]?.summary ?? '',
  all: runs.map((r) => lines / r.sec),
});
// Runs are interleaved (peer, ours, ours...) so that load from other processes falls on all of them alike.
const measureAll = async (cases: Array<{ argv: string[]; lines: number }>, runs: number): Promise<Figure[]> => {
  const out: Run[][] = cases.map(() => []);
  for (let i = 0; i < runs; i++) for (const [k, c] of cases.entries()) out[k]?.push(await timed(c.argv));
  return cases.map((c, k) => figure(out[k] ?? [], c.lines));
};
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const range = (f: Figure): string => `${fmt(Math.min(...f.all))}-${fmt(Math.max(...f.all))}`;

// `sentryban regex` timed inside a fresh process (after node and our modules have loaded): the in-process rate.
const INPROC = `await import(process.env.SB_YOUNG); const { runRegex } = await import(process.env.SB_REGEX);
const { Writable } = await import('node:stream'); let text = ''; const out = new Writable({ write(c, _e, cb) { text += c; cb(); } });
const t1 = process.hrtime.bigint(); await runRegex(process.argv.slice(1), out); const t2 = process.hrtime.bigint();
process.stdout.write(text); process.stderr.write('in-process ' + (Number(t2 - t1) / 1e9).toFixed(3) + '\\n');`;

// The floor of any per-line matcher in node: start node, read the file in 64 KiB chunks and visit every line
// (indexOf + a latin1 slice), nothing else. What is left of a time budget after this is all matching can use.
const FLOOR = `const fs = require('node:fs'); const fd = fs.openSync(process.argv[1], 'r'); const buf = Buffer.allocUnsafe(65536);
let n, lines = 0, carry = ''; while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) { const s = carry + buf.latin1Slice(0, n);
let i = 0, j; while ((j = s.indexOf('\\n', i)) >= 0) { if (s.slice(i, j).length >= 0) lines++; i = j + 1; } carry = s.slice(i); }
console.log('Lines: ' + lines);`;

export async function main(_args: string[]): Promise<void> {
  const runs = Number(process.env.REGEX_BENCH_RUNS ?? RUNS);
  const dir = mkdtempSync(join(tmpdir(), 'sentryban-bench-'));
  try {
    const log = join(dir, 'auth.log');
    const rejected = join(dir, 'sudo.log');
    writeFileSync(log, generateAuthLog(LINES));
    writeFileSync(rejected, generateAuthLog(LINES, 7, true));
    const ours = (file: string, filter: string): string[] => ['node', 'bin/sentryban', 'regex', file, filter];
    // The in-process figure runs in its own process too, with the same flags as bin/sentryban.
    const inproc = (file: string, filter: string): string[] => [
      'env',
      `SB_YOUNG=${join(ROOT, 'dist/sentryban/daemon/young-gen.js')}`,
      `SB_REGEX=${join(ROOT, 'dist/sentryban/commands/regex.js')}`,
      'node',
      '--input-type=module',
      '-e',
      INPROC,
      file,
      filter,
    ];
    console.log(
      `machine: 2 cores shared (load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(
          ' ',
        )}); ${LINES.toLocaleString('en-US')} generated lines (10% failures from 10,000 addresses), the same file for both; median of ${runs} interleaved runs`,
    );
    const [peer, stock, yaml, rej, peerRej, inStock, inYaml, inRej, floor] = (await measureAll(
      [
        { argv: ['fail2ban-regex', log, STOCK], lines: LINES },
        { argv: ours(log, STOCK), lines: LINES },
        { argv: ours(log, 'filters/sshd.yaml'), lines: LINES },
        { argv: ours(rejected, 'filters/sshd.yaml'), lines: LINES },
        { argv: ['fail2ban-regex', rejected, STOCK], lines: LINES },
        { argv: inproc(log, STOCK), lines: LINES },
        { argv: inproc(log, 'filters/sshd.yaml'), lines: LINES },
        { argv: inproc(rejected, 'filters/sshd.yaml'), lines: LINES },
        { argv: ['node', '-e', FLOOR, log], lines: LINES },
      ],
      runs,
    )) as [Figure, Figure, Figure, Figure, Figure, Figure, Figure, Figure, Figure];
    const line = (what: string, o: Figure, inO: Figure, p: Figure, pWhat: string): string =>
      `regex-throughput ${what}: whole command ours ${fmt(o.lps)} lines/s (peak RSS ${o.rssMb.toFixed(0)} MB) vs fail2ban-regex${pWhat} ${fmt(p.lps)} lines/s (peak RSS ${p.rssMb.toFixed(0)} MB), ratio ${(o.lps / p.lps).toFixed(1)}x; ` +
      `in-process ours ${fmt(inO.inLps)} vs ${fmt(p.inLps)} lines/s, ratio ${(inO.inLps / p.inLps).toFixed(1)}x`;
    console.log(line('stock sshd', stock, inStock, peer, ''));
    console.log(line('our sshd.yaml', yaml, inYaml, peer, ' (stock sshd)'));
    console.log(line('prefix-rejected lines (sudo only, sshd.yaml)', rej, inRej, peerRej, ' (stock sshd, same file)'));
    // 50x as whole-command time: what is left for matching once node has started and read the lines.
    const goal = 50 * peer.lps;
    const leftNs = 1e9 / goal - 1e9 / floor.lps;
    console.log(
      `  floor (node start, read, split, no matching): ${fmt(floor.lps)} lines/s (${floor.summary}); 50x fail2ban-regex = ${fmt(goal)} lines/s, which leaves ${leftNs.toFixed(0)} ns per line for matching (ours uses ${(1e9 / stock.lps - 1e9 / floor.lps).toFixed(0)} ns on one core's worth of wall time)`,
    );
    console.log(
      `  ranges (whole command, lines/s): ours stock ${range(stock)}, yaml ${range(yaml)}, rejected ${range(rej)}; fail2ban-regex ${range(peer)}, on the rejected file ${range(peerRej)}`,
    );
    console.log(
      `  summaries: ours stock [${stock.summary}] ours yaml [${yaml.summary}] fail2ban-regex [${peer.summary}]; rejected: ours [${rej.summary}] fail2ban-regex [${peerRej.summary}]`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
