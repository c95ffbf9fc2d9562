// Probe-to-alert and probe-to-KILL_ROUTE latency (-tcp), ours vs the real PortSentry 1.2 in the same run.
// Both daemons run at the same time, each in its own victim namespace, reached from one attacker namespace over
// two veths; the driver alternates ours / 1.2 probe by probe (250 ms apart), so both sides see the same moment
// of a shared, noisy machine (run one side after the other and 1.2's own median moves 0.35-0.62 ms between
// runs here). 30 distinct sources per side per round, 3 rounds, pooled medians: connect -> attackalert line,
// and connect -> KILL_ROUTE done ("dropped route" line). The driver and the syslog collector (this process) run
// at SCHED_FIFO 1, as stealth-latency's hping3: a daemon that keeps a core busy after its alert (ours, or a
// KILL_ROUTE child) must not delay the clock readings; the daemons run as usual (reset on fork).
// The conf reaches 1.2 through /etc/netns/<ns>/portsentry (ip netns exec binds it over /etc/portsentry inside
// the namespace only), so the machine's own /etc/portsentry is never touched.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, now, sleep } from './lib/measure.js';

const require = createRequire(import.meta.url);
const unix = require('unix-dgram') as {
  createSocket(
    t: string,
    f: (b: Buffer) => void,
  ): { bind(p: string): void; close(): void; on(e: string, f: () => void): void };
};
const BIN = fileURLToPath(new URL('../../bin/portsentry', import.meta.url));
const PROBES = 30;
const ROUNDS = 3;
const ip = (args: string[]) => execa('ip', args, { timeout: 15000 });

// argv: port, then dst,src pairs; prints "dst src t0" per probe.
const DRIVER = `
import net from 'node:net';
const [port, ...pairs] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
for (const pair of pairs) {
  const [dst, src] = pair.split(',');
  const t0 = now();
  await new Promise((res) => { const s = net.connect({ host: dst, port: Number(port), localAddress: src }, () => { s.destroy(); res(); }); s.on('error', res); s.setTimeout(3000, () => { s.destroy(); res(); }); });
  console.log(dst + ' ' + src + ' ' + t0);
  await new Promise((r) => setTimeout(r, 250));
}`;

type Which = 'ours' | '1.2';
type Side = { alert: number[]; route: number[]; pairs: number; oursFirst: number };
const NETS: Record<Which, string> = { ours: '192.0.2', '1.2': '198.51.100' };

const empty = (): Side => ({ alert: [], route: [], pairs: 0, oursFirst: 0 });

const round = async (work: string, first: Which): Promise<Record<Which, Side>> => {
  const id = randomBytes(3).toString('hex');
  const att = `sti-${id}-a`;
  const vict: Record<Which, string> = { ours: `sti-${id}-o`, '1.2': `sti-${id}-p` };
  const arrivals: Record<Which, { t: number; msg: string }[]> = { ours: [], '1.2': [] };
  const cols = (['ours', '1.2'] as Which[]).map((w) => {
    const sock = join(work, `log-${id}-${w === 'ours' ? 'o' : 'p'}.sock`);
    const col = unix.createSocket('unix_dgram', (b) => arrivals[w].push({ t: now(), msg: b.toString('latin1') }));
    col.on('error', () => {});
    col.bind(sock);
    chmodSync(sock, 0o666);
    return { w, sock, col };
  });
  const pids: number[] = [];
  try {
    await ip(['netns', 'add', att]);
    for (const [k, w] of (['ours', '1.2'] as Which[]).entries()) {
      const v = vict[w];
      const [dv, da] = [`siv${k}${id}`, `sia${k}${id}`];
      await ip(['netns', 'add', v]);
      await ip(['link', 'add', dv, 'type', 'veth', 'peer', 'name', da]);
      await ip(['link', 'set', dv, 'netns', v]);
      await ip(['link', 'set', da, 'netns', att]);
      for (const [ns, dev, addr] of [
        [v, dv, `${NETS[w]}.1`],
        [att, da, `${NETS[w]}.2`],
      ] as const) {
        await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
        await ip(['-n', ns, 'link', 'set', dev, 'up']);
        await ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
      }
      for (let i = 0; i < PROBES; i++) await ip(['-n', att, 'addr', 'add', `${NETS[w]}.${10 + i}/24`, 'dev', da]);
      const conf =
        `TCP_PORTS="11"\nUDP_PORTS="9"\nBLOCKED_FILE="${work}/blocked-${id}-${k}"\nHISTORY_FILE="${work}/history-${id}-${k}"\n` +
        `IGNORE_FILE="${work}/ignore"\nBLOCK_TCP="1"\nSCAN_TRIGGER="0"\nKILL_ROUTE="/usr/sbin/iptables -I INPUT -s $TARGET$ -j DROP"\n`;
      mkdirSync(`/etc/netns/${v}/portsentry`, { recursive: true });
      writeFileSync(`/etc/netns/${v}/portsentry/portsentry.conf`, conf);
    }
    // Started in the round's order (the first one gets no head start beyond its start-up).
    for (const w of first === 'ours' ? (['ours', '1.2'] as Which[]) : (['1.2', 'ours'] as Which[])) {
      const daemon =
        w === '1.2'
          ? ['/usr/sbin/portsentry', '-tcp']
          : [process.execPath, BIN, '-tcp', '--hosts-deny', join(work, `hd-${id}`)];
      const sock = cols.find((c) => c.w === w)?.sock as string;
      await execa(
        'ip',
        [
          'netns',
          'exec',
          vict[w],
          'unshare',
          '-m',
          '--propagation',
          'private',
          'sh',
          '-c',
          'mount --bind "$0" /dev/log && exec "$@"',
          sock,
          ...daemon,
        ],
        { timeout: 30000 },
      );
    }
    const deadline = Date.now() + 15000;
    const active = (w: Which) => arrivals[w].some((x) => x.msg.includes('now active'));
    while (!(active('ours') && active('1.2')) && Date.now() < deadline) await sleep(20);
    for (const w of ['ours', '1.2'] as Which[]) {
      const pid = Number(
        /portsentry\[(\d+)\]: adminalert: PortSentry is now active/.exec(arrivals[w].map((x) => x.msg).join(''))?.[1],
      );
      if (pid > 0) pids.push(pid);
    }
    const order: Which[] = first === 'ours' ? ['ours', '1.2'] : ['1.2', 'ours'];
    const pairs = Array.from({ length: PROBES }, (_, i) =>
      order.map((w) => `${NETS[w]}.1,${NETS[w]}.${10 + i}`),
    ).flat();
    writeFileSync(join(work, 'driver.mjs'), DRIVER);
    const d = await execa(
      'ip',
      ['netns', 'exec', att, 'chrt', '-f', '1', process.execPath, join(work, 'driver.mjs'), '11', ...pairs],
      { timeout: 120000 },
    );
    const settle = Date.now() + 10000;
    const routed = (w: Which) => arrivals[w].filter((x) => x.msg.includes('dropped route')).length >= PROBES;
    while (!(routed('ours') && routed('1.2')) && Date.now() < settle) await sleep(50);
    const out: Record<Which, Side> = { ours: empty(), '1.2': empty() };
    // Probe i of ours and probe i of 1.2 went out 250 ms apart: a pair.
    const alertOf: Record<Which, Map<number, number>> = { ours: new Map(), '1.2': new Map() };
    for (const line of String(d.stdout).trim().split('\n')) {
      const [dst, src, t] = line.split(' ');
      const w: Which = dst === `${NETS.ours}.1` ? 'ours' : '1.2';
      const al = arrivals[w].find((x) => x.msg.includes(`Connect from host: ${src}/${src} `));
      const rt = arrivals[w].find((x) => x.msg.includes(`Host ${src} has been blocked via dropped route`));
      if (al) {
        out[w].alert.push(al.t - Number(t));
        alertOf[w].set(Number(src?.split('.')[3]), al.t - Number(t));
      }
      if (rt) out[w].route.push(rt.t - Number(t));
    }
    for (const [i, o] of alertOf.ours) {
      const p = alertOf['1.2'].get(i);
      if (p === undefined) continue;
      out.ours.pairs++;
      if (o < p) out.ours.oursFirst++;
    }
    return out;
  } finally {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    for (const c of cols) c.col.close();
    for (const v of Object.values(vict)) {
      rmSync(`/etc/netns/${v}`, { recursive: true, force: true });
      await ip(['netns', 'del', v]).catch(() => {});
    }
    await ip(['netns', 'del', att]).catch(() => {});
  }
};

export async function main(_args: string[]): Promise<void> {
  await execa('chrt', ['-a', '-R', '-f', '-p', '1', String(process.pid)]); // -R: the daemons it starts run as usual
  const work = mkdtempSync(join(tmpdir(), 'ps-bench-'));
  chmodSync(work, 0o755);
  writeFileSync(join(work, 'ignore'), '# none\n');
  try {
    const all: Record<Which, Side> = { ours: empty(), '1.2': empty() };
    const perRound: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const got = await round(work, r % 2 === 0 ? '1.2' : 'ours');
      for (const w of ['ours', '1.2'] as Which[]) {
        all[w].alert.push(...got[w].alert);
        all[w].route.push(...got[w].route);
      }
      all.ours.pairs += got.ours.pairs;
      all.ours.oursFirst += got.ours.oursFirst;
      perRound.push((median(got.ours.alert) / median(got['1.2'].alert)).toFixed(2));
    }
    const fmt = (n: number) => `${n.toFixed(2)} ms`;
    for (const [label, key] of [
      ['connect -> attackalert line', 'alert'],
      ['connect -> KILL_ROUTE done', 'route'],
    ] as const) {
      const o = all.ours[key];
      const p = all['1.2'][key];
      console.log(
        `listener-latency ${label}: ours ${fmt(median(o))}, PortSentry 1.2 ${fmt(median(p))}, ratio ${(median(o) / median(p)).toFixed(2)} (median of ${o.length}/${p.length} probes, ${ROUNDS} rounds, probes alternating ours/1.2, ${PROBES} distinct sources each, 2 shared cores)`,
      );
    }
    console.log(
      `listener-latency attackalert line, per round: ratio ${perRound.join(', ')}; ours first in ${all.ours.oursFirst} of ${all.ours.pairs} probe pairs`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
    await execa('chrt', ['-a', '-o', '-p', '0', String(process.pid)]).catch(() => {});
  }
}
