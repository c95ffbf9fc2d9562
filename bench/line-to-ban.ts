import { execa, type ResultPromise } from 'execa';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { freePort } from './lib/measure.js';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from '../src/sentryban/control/client.js';

// line-to-ban: a failure line appended to a followed log until the ban's action has written hosts.deny, ours vs
// Debian's fail2ban-server (its own config in a temp folder, the stock hostsdeny action), same machine, same run.
// Then RSS of both after 100,000 distinct failing addresses (maxretry high: nothing is banned, all is counted).
const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', '..', 'bin', 'sentryban');
const N = Number(process.env.BENCH_ADDRS ?? 200);
const MEM_N = Number(process.env.BENCH_MEM_ADDRS ?? 100_000);
const DEADLINE_MS = 20_000;
// BENCH_METRICS=1: ours with its Prometheus endpoint on (`metrics:` in sentryban.yaml), scraped every second while
// it runs (a real Prometheus scrapes every 15-60 s), to compare with it off in the same run.
const METRICS = process.env.BENCH_METRICS === '1';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const stamp = (d = new Date()): string => d.toISOString().replace('T', ' ').slice(0, 19); // UTC, fail2ban parses it
const addrOf = (i: number): string => `198.51.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`;
const memAddr = (i: number): string => `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`;
// RSS in KiB, and its two parts: anonymous (the process's own) and file-backed (mostly the interpreter's binary:
// 99 MB for node, of which a bare `node -e` maps ~34 MiB; shared by every process that runs it).
type Rss = { rss: number; anon: number; file: number };
const rssKb = (pid: number): Rss => {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
};
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};

// Append one line, then poll the hosts.deny file until the ban line appears.
const measure = async (
  log: string,
  deny: string,
  i: number,
  line: (a: string) => string,
  want: (a: string) => string,
): Promise<number> => {
  const t0 = performance.now();
  appendFileSync(log, `${line(addrOf(i))}\n`);
  for (;;) {
    if (existsSync(deny) && readFileSync(deny, 'utf8').includes(`${want(addrOf(i))}\n`)) return performance.now() - t0;
    if (performance.now() - t0 > DEADLINE_MS) throw new Error(`no ban for ${addrOf(i)} within ${DEADLINE_MS} ms`);
    await sleep(1);
  }
};

type Peer = {
  name: string;
  pid: number;
  proc: ResultPromise;
  failed: () => Promise<number>;
  stop: () => Promise<void>;
};

const startOurs = async (dir: string): Promise<Peer> => {
  mkdirSync(join(dir, 'jails'), { recursive: true });
  const port = METRICS ? await freePort() : 0;
  writeFileSync(
    join(dir, 'sentryban.yaml'),
    'state: state\nlogfile: sentryban.log\nactions:\n  deny:\n    backend: hostsdeny\n    file: hosts.deny\n' +
      (METRICS ? `metrics: 127.0.0.1:${port}\n` : ''),
  );
  const jail = (name: string, maxretry: number): string =>
    `${name}:\n  logpath: ${name}.log\n  failregex: 'auth failure from <HOST>$'\n  maxretry: ${maxretry}\n  findtime: 1d\n  bantime: 1h\n  ignoreself: false\n  actions: [deny]\n`;
  writeFileSync(join(dir, 'jails', 'j.yaml'), jail('bench', 1) + jail('mem', 1_000_000));
  writeFileSync(join(dir, 'bench.log'), '');
  writeFileSync(join(dir, 'mem.log'), '');
  const proc = execa('node', [bin, 'daemon', '--foreground', '--config', dir], {
    reject: false,
    buffer: false,
    stdout: 'pipe',
    stderr: 'ignore',
  });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  for (let t = 0; !out.includes('ready'); t++) {
    if (t > 2000 || proc.exitCode !== null) throw new Error('sentryban did not start');
    await sleep(10);
  }
  let scrapes = 0;
  const failed: string[] = [];
  const scraper = METRICS
    ? setInterval(() => {
        void fetch(`http://127.0.0.1:${port}/metrics`)
          .then((r) => r.text())
          .then(
            () => scrapes++,
            (e: unknown) => failed.push(String((e as Error).cause ?? e)),
          );
      }, 1000)
    : null;
  return {
    name: 'sentryban',
    pid: proc.pid ?? -1,
    proc,
    failed: async () => {
      const r = await request(join(dir, 'state', 'sentryban.sock'), 'status', {});
      return r.ok
        ? ((r.result as { jails: { jail: string; failures: number }[] }).jails.find((j) => j.jail === 'mem')
            ?.failures ?? 0)
        : -1;
    },
    stop: async () => {
      if (scraper) {
        clearInterval(scraper);
        await sleep(500); // a scrape in flight ends before the daemon does
        if (failed.length) throw new Error(`BENCH_METRICS: scrapes failed: ${failed.join('; ')}`);
        if (scrapes === 0) throw new Error('BENCH_METRICS: no scrape succeeded');
      }
      proc.kill('SIGTERM');
      await proc;
    },
  };
};

const startFail2ban = async (dir: string): Promise<Peer> => {
  for (const d of ['filter.d', 'action.d']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync('/etc/fail2ban/action.d/hostsdeny.conf', join(dir, 'action.d', 'hostsdeny.conf'));
  writeFileSync(join(dir, 'filter.d', 'bench.conf'), '[Definition]\nfailregex = auth failure from <HOST>$\n');
  writeFileSync(
    join(dir, 'fail2ban.conf'),
    `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/fail2ban.log\nsocket = ${dir}/f2b.sock\npidfile = ${dir}/f2b.pid\ndbfile = ${dir}/f2b.sqlite3\ndbpurgeage = 1d\n`,
  );
  const jail = (name: string, maxretry: number): string =>
    `[${name}]\nenabled = true\nfilter = bench\nlogpath = ${dir}/${name}.log\nmaxretry = ${maxretry}\n`;
  writeFileSync(
    join(dir, 'jail.conf'),
    `[DEFAULT]\nfindtime = 1d\nbantime = 1h\nignoreself = false\nbackend = auto\nusedns = no\naction = hostsdeny[file="${dir}/hosts.deny"]\n\n${jail('bench', 1)}\n${jail('mem', 1_000_000)}`,
  );
  writeFileSync(join(dir, 'bench.log'), '');
  writeFileSync(join(dir, 'mem.log'), '');
  const sock = join(dir, 'f2b.sock');
  const proc = execa('fail2ban-server', ['-f', '-x', '-c', dir, '-s', sock, '-p', join(dir, 'f2b.pid')], {
    reject: false,
    buffer: false,
    stdout: 'ignore',
    stderr: 'ignore',
  });
  const client = (...a: string[]) =>
    execa('fail2ban-client', ['-c', dir, '-s', sock, ...a], { reject: false, timeout: 30_000 });
  for (let t = 0; ; t++) {
    const r = await client('status', 'mem');
    if (r.exitCode === 0) break;
    if (t > 300 || proc.exitCode !== null) throw new Error(`fail2ban-server did not start: ${r.stderr}`);
    await sleep(100);
  }
  return {
    name: 'fail2ban',
    pid: proc.pid ?? -1,
    proc,
    failed: async () => Number(/Total failed:\s*(\d+)/.exec((await client('status', 'mem')).stdout)?.[1] ?? -1),
    stop: async () => {
      await client('stop');
      await Promise.race([proc, sleep(10_000)]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
};

const latency = async (peer: Peer, dir: string): Promise<number[]> => {
  const out: number[] = [];
  for (let i = 0; i < N; i++)
    out.push(
      await measure(
        join(dir, 'bench.log'),
        join(dir, peer.name === 'fail2ban' ? 'hosts.deny' : 'state/hosts.deny'),
        i,
        (a) => `${stamp()} host app[1]: auth failure from ${a}`,
        (a) => `ALL: ${a}`,
      ),
    );
  return out;
};

const memory = async (peer: Peer, dir: string): Promise<Rss> => {
  const log = join(dir, 'mem.log');
  const chunk = 5000;
  for (let i = 0; i < MEM_N; i += chunk) {
    let text = '';
    const s = stamp();
    for (let k = i; k < Math.min(MEM_N, i + chunk); k++) text += `${s} host app[1]: auth failure from ${memAddr(k)}\n`;
    appendFileSync(log, text);
    await sleep(50);
  }
  const t0 = Date.now();
  while ((await peer.failed()) < MEM_N) {
    if (Date.now() - t0 > 600_000) throw new Error(`${peer.name} did not count ${MEM_N} failures in 10 min`);
    await sleep(500);
  }
  await sleep(5000); // settle: both had every line counted; give each the same quiet time before reading RSS
  return rssKb(peer.pid);
};

export async function main(): Promise<void> {
  const results: Record<string, { lat: number[]; rss: Rss }> = {};
  const only = process.env.BENCH_ONLY;
  for (const [name, start] of [
    ['sentryban', startOurs],
    ['fail2ban', startFail2ban],
  ] as const) {
    if (only && only !== name) continue;
    const dir = mkdtempSync(join(tmpdir(), `bench-l2b-${name}-`));
    try {
      const peer = await start(dir);
      try {
        const lat = await latency(peer, dir);
        const rss = await memory(peer, dir);
        results[name] = { lat, rss };
      } finally {
        await peer.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const o = results.sentryban;
  const f = results.fail2ban;
  if (!o || !f) {
    console.log(
      JSON.stringify(
        Object.fromEntries(
          Object.entries(results).map(([k, v]) => [
            k,
            {
              p50: pct(v.lat, 0.5),
              p90: pct(v.lat, 0.9),
              rssMiB: v.rss.rss / 1024,
              anonMiB: v.rss.anon / 1024,
              fileMiB: v.rss.file / 1024,
            },
          ]),
        ),
      ),
    );
    return;
  }
  const fmt = (x: number): string => x.toFixed(1);
  const mib = (r: Rss): string => `${fmt(r.rss / 1024)} (${fmt(r.anon / 1024)} + ${fmt(r.file / 1024)})`;
  console.log(
    `line-to-ban p50 (ms): sentryban ${fmt(pct(o.lat, 0.5))}, fail2ban ${fmt(pct(f.lat, 0.5))}, ratio ${(pct(f.lat, 0.5) / pct(o.lat, 0.5)).toFixed(1)}x faster (median of ${N} addresses, one run, 2 shared cores)`,
  );
  console.log(
    `line-to-ban p90 (ms): sentryban ${fmt(pct(o.lat, 0.9))}, fail2ban ${fmt(pct(f.lat, 0.9))}, ratio ${(pct(f.lat, 0.9) / pct(o.lat, 0.9)).toFixed(1)}x`,
  );
  console.log(
    `RSS after ${MEM_N} distinct failing addresses, 5 s after the last was counted (MiB, anon + file): sentryban ${mib(o.rss)}, fail2ban ${mib(f.rss)}, ratio ${(f.rss.rss / o.rss.rss).toFixed(2)}x less`,
  );
}
