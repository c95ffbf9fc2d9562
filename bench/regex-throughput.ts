import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

// `sentryban regex` vs `fail2ban-regex` on the same generated auth.log (seeded): lines/s and peak RSS,
// stock sshd filter and our YAML sshd filter; plus lines the prefix rejects. Medians of RUNS runs.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LINES = 1_000_000;
const PEER_LINES = 200_000; // fail2ban-regex runs on a bounded prefix (same content), it is ~50x slower
const RUNS = 3;
const STOCK = '/etc/fail2ban/filter.d/sshd.conf';

// Small deterministic PRNG (mulberry32).
const rng = (seed: number) => () => { seed |= 0; seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const stamp = (sec: number): string => {
  const d = new Date(Date.UTC(2026, 10, 24) + sec * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${MON[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
};

export const generateAuthLog = (n: number, seed = 42, onlyRejected = false): string => {
  const r = rng(seed);
  // 10,000 distinct documentation addresses: 512 IPv4 (198.51.100.0/24, 203.0.113.0/24), the rest in 2001:db8::/32.
  const addr = (i: number): string => (i < 256 ? `198.51.100.${i}` : i < 512 ? `203.0.113.${i - 256}` : `2001:db8:${(i >> 8).toString(16)}::${(i & 255).toString(16)}`);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const ts = stamp(Math.floor((i * 86_400) / n));
    const pid = 1000 + Math.floor(r() * 30000);
    const x = onlyRejected ? 0.99 : r();
    const a = addr(Math.floor(r() * 10_000));
    if (x < 0.1) out.push(`${ts} vm sshd[${pid}]: Failed password for ${r() < 0.5 ? 'invalid user admin' : 'root'} from ${a} port ${1024 + Math.floor(r() * 60000)} ssh2`);
    else if (x < 0.2) out.push(`${ts} vm sshd[${pid}]: Accepted publickey for alice from 192.0.2.10 port ${1024 + Math.floor(r() * 60000)} ssh2: ED25519 SHA256:Qm9vYmFy`);
    else if (x < 0.3) out.push(`${ts} vm sshd[${pid}]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)`);
    else if (x < 0.4) out.push(`${ts} vm sshd[${pid}]: Received disconnect from 192.0.2.10 port 50022:11: disconnected by user`);
    else if (x < 0.75) out.push(`${ts} vm CRON[${pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`);
    else out.push(`${ts} vm sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl status`);
  }
  return `${out.join('\n')}\n`;
};

type Run = { sec: number; rssKb: number; summary: string };
const timed = async (argv: string[]): Promise<Run> => {
  const r = await execa('/usr/bin/time', ['-f', '%e %M', ...argv], { cwd: ROOT, reject: false, timeout: 900_000, env: { TZ: 'UTC' } });
  const tl = r.stderr.trim().split('\n').at(-1) ?? '';
  const [sec, rss] = tl.split(' ').map(Number);
  return { sec: sec ?? NaN, rssKb: rss ?? NaN, summary: (r.stdout.match(/Lines: .*/)?.[0]) ?? r.stderr.slice(0, 200) };
};
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN; };
const measure = async (argv: string[], lines: number): Promise<{ lps: number; rssMb: number; summary: string }> => {
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await timed(argv));
  return { lps: median(runs.map((r) => lines / r.sec)), rssMb: median(runs.map((r) => r.rssKb / 1024)), summary: runs[0]?.summary ?? '' };
};
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export async function main(_args: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sentryban-bench-'));
  try {
    const log = join(dir, 'auth.log'); const prefix = join(dir, 'auth-prefix.log'); const rejected = join(dir, 'cron.log');
    const text = generateAuthLog(LINES);
    writeFileSync(log, text);
    writeFileSync(prefix, `${text.split('\n').slice(0, PEER_LINES).join('\n')}\n`);
    writeFileSync(rejected, generateAuthLog(LINES, 7, true));
    const ours = (file: string, filter: string): string[] => ['node', 'bin/sentryban', 'regex', file, filter];
    console.log(`machine: 2 cores shared; ${LINES.toLocaleString('en-US')} generated lines (10% failures from 10,000 addresses), fail2ban-regex on the first ${PEER_LINES.toLocaleString('en-US')}; median of ${RUNS}`);
    const peer = await measure(['fail2ban-regex', prefix, STOCK], PEER_LINES);
    const peerYamlEquivalent = peer;
    const stock = await measure(ours(log, STOCK), LINES);
    const yaml = await measure(ours(log, 'filters/sshd.yaml'), LINES);
    const rej = await measure(ours(rejected, 'filters/sshd.yaml'), LINES);
    console.log(`regex-throughput stock sshd: ours ${fmt(stock.lps)} lines/s (peak RSS ${stock.rssMb.toFixed(0)} MB), fail2ban-regex ${fmt(peer.lps)} lines/s (peak RSS ${peer.rssMb.toFixed(0)} MB), ratio ${(stock.lps / peer.lps).toFixed(1)}x`);
    console.log(`regex-throughput our sshd.yaml: ours ${fmt(yaml.lps)} lines/s (peak RSS ${yaml.rssMb.toFixed(0)} MB), fail2ban-regex (stock sshd) ${fmt(peerYamlEquivalent.lps)} lines/s, ratio ${(yaml.lps / peer.lps).toFixed(1)}x`);
    console.log(`regex-throughput prefix-rejected lines (cron/sudo only, sshd.yaml): ours ${fmt(rej.lps)} lines/s (peak RSS ${rej.rssMb.toFixed(0)} MB)`);
    console.log(`  summaries: ours stock [${stock.summary}] ours yaml [${yaml.summary}] fail2ban-regex prefix [${peer.summary}]`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
}
