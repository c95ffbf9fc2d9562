import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { corpusLines, type DateMode, type Service } from './lib/corpus.js';

// `sentryban regex` vs `fail2ban-regex` on the same files in the same run: lines/s, ratio and peak RSS. The files
// are the varied corpus of bench/lib/corpus.ts (sshd with one date format per file and with BSD/ISO alternating
// line by line, the nginx error log, postfix; 20% IPv6, tens of thousands of addresses) and, as one case among
// them, the old generated auth.log (10,000 addresses, few message kinds). Stock filters from /etc/fail2ban, and
// our filters/sshd.yaml. Medians of RUNS interleaved runs of ours (REGEX_BENCH_RUNS too; default 5) and of
// PEER_RUNS runs of fail2ban-regex (default 1: about 30-60 s a run on 1,000,000 lines); LINES lines a file.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LINES = Number(process.env.LINES ?? 1_000_000);
const RUNS = Number(process.env.RUNS ?? process.env.REGEX_BENCH_RUNS ?? 5);
const PEER_RUNS = Number(process.env.PEER_RUNS ?? 1);
const STOCK = (name: string): string => `/etc/fail2ban/filter.d/${name}.conf`;

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
// A case with `runs` set runs only in the first `runs` rounds (fail2ban-regex).
type Case = { argv: string[]; lines: number; runs?: number };
const measureAll = async (cases: Case[], runs: number): Promise<Figure[]> => {
  const out: Run[][] = cases.map(() => []);
  for (let i = 0; i < runs; i++)
    for (const [k, c] of cases.entries()) if (i < (c.runs ?? runs)) out[k]?.push(await timed(c.argv));
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

// Writes a corpus file line by line (a 1,000,000-line file is 120-230 MB: never one string).
const writeCorpus = (path: string, service: Service, n: number, mode: DateMode): void => {
  const fd = openSync(path, 'w');
  try {
    let chunk = '';
    for (const l of corpusLines(service, n, 1, mode)) {
      chunk += `${l}\n`;
      if (chunk.length > 1 << 20) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
};

type FileSpec = { key: string; what: string; make: (path: string) => void };
type CaseSpec = { what: string; file: string; filter: string; peer: boolean };

export async function main(_args: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sentryban-bench-'));
  try {
    const files: FileSpec[] = [
      { key: 'sshd', what: 'sshd, BSD dates', make: (p) => writeCorpus(p, 'sshd', LINES, 'native') },
      { key: 'sshd-iso', what: 'sshd, ISO dates', make: (p) => writeCorpus(p, 'sshd', LINES, 'iso') },
      { key: 'sshd-alt', what: 'sshd, BSD/ISO alternating', make: (p) => writeCorpus(p, 'sshd', LINES, 'alternating') },
      { key: 'nginx-error', what: 'nginx error log', make: (p) => writeCorpus(p, 'nginx-error', LINES, 'native') },
      { key: 'postfix', what: 'postfix', make: (p) => writeCorpus(p, 'postfix', LINES, 'native') },
      { key: 'old', what: 'old auth.log', make: (p) => writeFileSync(p, generateAuthLog(LINES)) },
      { key: 'rejected', what: 'sudo lines only', make: (p) => writeFileSync(p, generateAuthLog(LINES, 7, true)) },
    ];
    const path = (key: string): string => join(dir, `${key}.log`);
    for (const f of files) f.make(path(f.key));
    const cases: CaseSpec[] = [
      { what: 'stock sshd, varied sshd, one date format (BSD)', file: 'sshd', filter: STOCK('sshd'), peer: true },
      { what: 'stock sshd, varied sshd, one date format (ISO)', file: 'sshd-iso', filter: STOCK('sshd'), peer: true },
      { what: 'stock sshd, varied sshd, alternating dates', file: 'sshd-alt', filter: STOCK('sshd'), peer: true },
      { what: 'our sshd.yaml, varied sshd (BSD)', file: 'sshd', filter: 'filters/sshd.yaml', peer: false },
      {
        what: 'stock nginx-http-auth, nginx error log',
        file: 'nginx-error',
        filter: STOCK('nginx-http-auth'),
        peer: true,
      },
      { what: 'stock postfix, postfix log', file: 'postfix', filter: STOCK('postfix'), peer: true },
      { what: 'stock sshd, old auth.log', file: 'old', filter: STOCK('sshd'), peer: true },
      {
        what: 'our sshd.yaml, prefix-rejected lines (sudo only)',
        file: 'rejected',
        filter: 'filters/sshd.yaml',
        peer: false,
      },
    ];
    const ours = (file: string, filter: string): string[] => ['node', 'bin/sentryban', 'regex', path(file), filter];
    // The in-process figure runs in its own process too, with the same flags as bin/sentryban.
    const inproc = (file: string, filter: string): string[] => [
      'env',
      `SB_YOUNG=${join(ROOT, 'dist/sentryban/daemon/young-gen.js')}`,
      `SB_REGEX=${join(ROOT, 'dist/sentryban/commands/regex.js')}`,
      'node',
      '--input-type=module',
      '-e',
      INPROC,
      path(file),
      filter,
    ];
    const load = (): string =>
      loadavg()
        .map((x) => x.toFixed(1))
        .join(' ');
    console.log(
      `machine: 2 cores shared (load average ${load()}); ${fmt(LINES)} lines a file (files over 80 MiB: ` +
        `sentryban regex uses 2 threads); ours: median of ${RUNS} interleaved runs, fail2ban-regex: ${PEER_RUNS}`,
    );
    const list: Case[] = [];
    const at = cases.map((c) => {
      const k = list.length;
      list.push({ argv: ours(c.file, c.filter), lines: LINES }, { argv: inproc(c.file, c.filter), lines: LINES });
      if (c.peer) list.push({ argv: ['fail2ban-regex', path(c.file), c.filter], lines: LINES, runs: PEER_RUNS });
      return k;
    });
    list.push({ argv: ['node', '-e', FLOOR, path('sshd')], lines: LINES });
    const figs = await measureAll(list, RUNS);
    const peerOf = new Map<string, Figure>(); // file + filter -> fail2ban-regex's figure
    for (const [i, c] of cases.entries()) {
      const k = at[i] as number;
      const [o, inO] = [figs[k] as Figure, figs[k + 1] as Figure];
      if (c.peer) peerOf.set(`${c.file} ${c.filter}`, figs[k + 2] as Figure);
      const p = peerOf.get(`${c.file} ${c.filter}`) ?? peerOf.get(`${c.file} ${STOCK('sshd')}`);
      const vs =
        p === undefined
          ? ''
          : ` vs fail2ban-regex${c.peer ? '' : ' (stock sshd, same file)'} ${fmt(p.lps)} lines/s ` +
            `(peak RSS ${p.rssMb.toFixed(0)} MB), ratio ${(o.lps / p.lps).toFixed(1)}x; in-process ${fmt(inO.inLps)} ` +
            `vs ${fmt(p.inLps)} lines/s, ${(inO.inLps / p.inLps).toFixed(1)}x`;
      console.log(
        `regex-throughput ${c.what}: ours ${fmt(o.lps)} lines/s (runs ${range(o)}, peak RSS ` +
          `${o.rssMb.toFixed(0)} MB; in-process ${fmt(inO.inLps)})${vs}`,
      );
      const same =
        p === undefined || !c.peer ? '' : p.summary === o.summary ? ' (same counts)' : ` DIFFERENT: ${p.summary}`;
      console.log(`  ${o.summary}${same}`);
    }
    const floor = figs.at(-1) as Figure;
    console.log(
      `  floor (node start, read, split the varied sshd file, no matching): ${fmt(floor.lps)} lines/s; ` +
        `load average now ${load()}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
