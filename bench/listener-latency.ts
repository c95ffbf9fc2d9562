// Probe-to-alert and probe-to-KILL_ROUTE latency, ours vs the real PortSentry 1.2 (-tcp), in the same run.
// Each side runs in fresh namespaces; 30 connects from 30 distinct source addresses; medians.
// The conf reaches 1.2 through /etc/netns/<ns>/portsentry (ip netns exec binds it over /etc/portsentry inside
// the namespace only), so the machine's own /etc/portsentry is never touched.
import { execa } from 'execa';
import { createRequire } from 'node:module';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, now, sleep } from './lib/measure.js';
import { randomBytes } from 'node:crypto';

const require = createRequire(import.meta.url);
const unix = require('unix-dgram') as { createSocket(t: string, f: (b: Buffer) => void): { bind(p: string): void; close(): void; on(e: string, f: () => void): void } };
const BIN = fileURLToPath(new URL('../../bin/portsentry', import.meta.url));
const PROBES = 30;
const ROUNDS = 3;

const DRIVER = `
import net from 'node:net';
const [dst, port, ...srcs] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
for (const src of srcs) {
  const t0 = now();
  await new Promise((res) => { const s = net.connect({ host: dst, port: Number(port), localAddress: src }, () => { s.destroy(); res(); }); s.on('error', res); s.setTimeout(3000, () => { s.destroy(); res(); }); });
  console.log(src + ' ' + t0);
  await new Promise((r) => setTimeout(r, 250));
}`;

type Side = { alert: number[]; route: number[] };

const ip = (args: string[]) => execa('ip', args, { timeout: 15000 });

const runSide = async (which: 'ours' | '1.2', work: string): Promise<Side> => {
  const id = randomBytes(3).toString('hex');
  const [v, a] = [`stb-${id}-v`, `stb-${id}-a`];
  const srcs = Array.from({ length: PROBES }, (_, i) => `192.0.2.${10 + i}`);
  const etc = `/etc/netns/${v}`;
  const sock = join(work, `log-${id}.sock`);
  const arrivals: { t: number; msg: string }[] = [];
  const col = unix.createSocket('unix_dgram', (b) => arrivals.push({ t: now(), msg: b.toString('latin1') }));
  col.on('error', () => {});
  col.bind(sock);
  chmodSync(sock, 0o666);
  try {
    await ip(['netns', 'add', v]); await ip(['netns', 'add', a]);
    await ip(['link', 'add', `sbv${id}`, 'type', 'veth', 'peer', 'name', `sba${id}`]);
    await ip(['link', 'set', `sbv${id}`, 'netns', v]); await ip(['link', 'set', `sba${id}`, 'netns', a]);
    for (const [ns, dev, addr] of [[v, `sbv${id}`, '192.0.2.1'], [a, `sba${id}`, '192.0.2.2']] as const) {
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']); await ip(['-n', ns, 'link', 'set', dev, 'up']);
      await ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
    }
    for (const s of srcs) await ip(['-n', a, 'addr', 'add', `${s}/24`, 'dev', `sba${id}`]);
    const conf = `TCP_PORTS="11"\nUDP_PORTS="9"\nBLOCKED_FILE="${work}/blocked-${id}"\nHISTORY_FILE="${work}/history-${id}"\n`
      + `IGNORE_FILE="${work}/ignore"\nBLOCK_TCP="1"\nSCAN_TRIGGER="0"\nKILL_ROUTE="/usr/sbin/iptables -I INPUT -s $TARGET$ -j DROP"\n`;
    mkdirSync(join(etc, 'portsentry'), { recursive: true });
    writeFileSync(join(etc, 'portsentry', 'portsentry.conf'), conf);
    const daemon = which === '1.2' ? ['/usr/sbin/portsentry', '-tcp'] : [process.execPath, BIN, '-tcp', '--hosts-deny', join(work, 'hd')];
    await execa('ip', ['netns', 'exec', v, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /dev/log && exec "$@"', sock, ...daemon], { timeout: 30000 });
    const deadline = Date.now() + 15000;
    while (!arrivals.some((x) => x.msg.includes('now active')) && Date.now() < deadline) await sleep(20);
    const pid = Number(/portsentry\[(\d+)\]: adminalert: PortSentry is now active/.exec(arrivals.map((x) => x.msg).join(''))?.[1]);
    writeFileSync(join(work, 'driver.mjs'), DRIVER);
    const d = await execa('ip', ['netns', 'exec', a, 'chrt', '-f', '1', process.execPath, join(work, 'driver.mjs'), '192.0.2.1', '11', ...srcs], { timeout: 120000 });
    const settle = Date.now() + 10000;
    while (arrivals.filter((x) => x.msg.includes('dropped route')).length < PROBES && Date.now() < settle) await sleep(50);
    if (pid > 0) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
    const t0 = new Map(String(d.stdout).trim().split('\n').map((l) => { const [s, t] = l.split(' '); return [s as string, Number(t)]; }));
    const side: Side = { alert: [], route: [] };
    for (const [src, t] of t0) {
      const al = arrivals.find((x) => x.msg.includes(`Connect from host: ${src}/${src} `));
      const rt = arrivals.find((x) => x.msg.includes(`Host ${src} has been blocked via dropped route`));
      if (al) side.alert.push(al.t - t);
      if (rt) side.route.push(rt.t - t);
    }
    const rules = await execa('ip', ['netns', 'exec', v, 'iptables', '-S', 'INPUT']);
    if (String(rules.stdout).split('\n').filter((l) => l.includes('-j DROP')).length !== PROBES) console.log(`  (${which}: not all ${PROBES} rules present)`);
    return side;
  } finally {
    col.close();
    rmSync(etc, { recursive: true, force: true });
    await ip(['netns', 'del', v]).catch(() => {}); await ip(['netns', 'del', a]).catch(() => {});
  }
};

export async function main(_args: string[]): Promise<void> {
  // The driver (connect times) and this process (the syslog collector's arrival times) run at SCHED_FIFO 1, as
  // stealth-latency's hping3: otherwise a daemon that keeps a core busy after its alert (ours, or the KILL_ROUTE
  // child) delays the collector's clock reading, not the alert. The same for both sides.
  await execa('chrt', ['-a', '-R', '-f', '-p', '1', String(process.pid)]); // -R: the daemons it starts run as usual
  const work = mkdtempSync(join(tmpdir(), 'ps-bench-'));
  chmodSync(work, 0o755);
  writeFileSync(join(work, 'ignore'), '# none\n');
  try {
    // Rounds alternate which side goes first (shared, noisy cores); probes of all rounds are pooled.
    const orig: Side = { alert: [], route: [] };
    const ours: Side = { alert: [], route: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['1.2', 'ours'] as const) : (['ours', '1.2'] as const);
      for (const which of order) {
        const r = await runSide(which, work);
        const into = which === '1.2' ? orig : ours;
        into.alert.push(...r.alert);
        into.route.push(...r.route);
      }
    }
    const fmt = (n: number) => `${n.toFixed(2)} ms`;
    for (const [label, o, p] of [['connect -> attackalert line', ours.alert, orig.alert], ['connect -> KILL_ROUTE done', ours.route, orig.route]] as const) {
      const mo = median(o); const mp = median(p);
      console.log(`listener-latency ${label}: ours ${fmt(mo)}, PortSentry 1.2 ${fmt(mp)}, ratio ${(mo / mp).toFixed(2)} (median of ${o.length}/${p.length} probes, ${ROUNDS} alternating rounds of ${PROBES} distinct sources, 2 shared cores)`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    await execa('chrt', ['-a', '-o', '-p', '0', String(process.pid)]).catch(() => {});
  }
}
