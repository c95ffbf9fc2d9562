import { afterEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Addr, parseCidr } from '../../src/core/addr.js';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import { BlockedStore } from '../../src/portsentry/blocked.js';
import { parseConf } from '../../src/portsentry/conf.js';
import { alertDatagram, alertTable, CLOCK_SECONDS } from '../../src/portsentry/alert-table.js';
import { FastAlert } from '../../src/portsentry/fast-alert.js';
import { IgnoreGate } from '../../src/portsentry/ignore-gate.js';
import { openLogger, type Logger } from '../../src/portsentry/log.js';
import { Pipeline } from '../../src/portsentry/pipeline.js';
import { makeCommandRunner } from '../../src/portsentry/run-command.js';
import { makeTcpSensor } from '../../src/portsentry/sensors/tcp.js';
import { nativeAlert, nativeTrapStatus } from '../../src/portsentry/sensors/trap-addon.js';
import type { Sensor } from '../../src/portsentry/sensors/types.js';
import { StateEngine } from '../../src/portsentry/trigger.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { Collector, parseDatagram } from './side.js';
import { freePort } from '../helpers/ports.js';

// The -tcp attackalert line sent from C at accept time (native/trapalert.c, by the table of
// src/portsentry/alert-table.ts, armed by src/portsentry/fast-alert.ts): the same bytes as the pipeline's own line,
// the ignore list as the pipeline reads it (changes seen on the very next probe), never a line out of order. Real
// sockets on loopback, a private syslog socket.
const isCi = process.env.CI === 'true';
// Skipped only outside CI, when the native addon (native/trapalert.c) was not built: there is nothing to test then;
// in CI (CI=true) the cases run and fail if the addon is missing.
const t = !nativeAlert && !isCi ? it.skip : it;
const alert = nativeAlert!;

// Connects from `from` and waits for the trap's close.
const probe = (port: number, host: string, from?: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const s = connect({ port, host, ...(from ? { localAddress: from } : {}) });
    s.on('data', () => {});
    s.on('error', reject);
    s.on('close', () => resolve());
    s.setTimeout(5000, () => s.destroy(new Error('no close from the trap')));
  });

type Daemon = {
  dir: string;
  port: number;
  col: Collector;
  echoed: string[];
  fast: FastAlert | null;
  logger: Logger;
  // How many times the pipeline went idle (and re-armed C).
  idles: () => number;
  messages: () => string[];
  stop: () => Promise<void>;
};
const running: Daemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});

// One -tcp listener in this process, wired as src/portsentry/main.ts wires it.
const start = async (
  opts: { conf?: string; fast?: boolean; ignore?: string; log?: string; slowRoute?: boolean } = {},
): Promise<Daemon> => {
  const { dir, cleanup } = makeTmpDir('ps-fast-');
  // A KILL_ROUTE that takes 0.3 s (a probe stays in flight that long).
  if (opts.slowRoute) {
    writeFileSync(join(dir, 'slow-route'), '#!/bin/sh\nsleep 0.3\n');
    chmodSync(join(dir, 'slow-route'), 0o755);
  }
  const port = await freePort();
  writeFileSync(join(dir, 'ignore'), opts.ignore ?? '# none\n');
  writeFileSync(join(dir, 'blocked.tcp'), '');
  const text =
    `TCP_PORTS="${port}"\nBLOCKED_FILE="${dir}/blocked"\nHISTORY_FILE="${dir}/history"\nIGNORE_FILE="${dir}/ignore"\n` +
    `BLOCK_TCP="1"\nKILL_HOSTS_DENY="ALL: $TARGET$"\n${(opts.conf ?? 'SCAN_TRIGGER="0"\n').replace('SLOW', join(dir, 'slow-route'))}`;
  const { conf, errors } = parseConf(text, 'test.conf');
  expect(errors).toEqual([]);
  const col = opts.log ? null : new Collector(join(dir, 'log.sock'));
  const logger = openLogger({ stdout: false, syslogPath: opts.log ?? col!.path });
  const echoed: string[] = [];
  const ignore = new IgnoreGate(join(dir, 'ignore'), () => []);
  let fast: FastAlert | null = null;
  let idles = 0;
  const pipeline = new Pipeline({
    conf,
    log: logger.log,
    ignore,
    engine: new StateEngine(conf.scanTrigger ?? 0),
    store: new BlockedStore(join(dir, 'blocked.tcp'), join(dir, 'history')),
    hostsDeny: join(dir, 'hosts.deny'),
    run: makeCommandRunner(5000),
    resolve: async (a) => a.text,
    now: () => new Date(),
    echo: (l) => echoed.push(l),
    onIdle: () => {
      fast?.ready();
      idles++;
    },
  });
  const sensor: Sensor = makeTcpSensor('native')(conf, {
    log: logger.log,
    submit: (ev, h) => {
      void pipeline.submit(ev, h);
    },
    clock: systemClock,
  });
  expect(await sensor.start()).toBe(true);
  if (opts.fast !== false) fast = FastAlert.open(alert, conf, ignore, logger);
  const d: Daemon = {
    dir,
    port,
    col: col as Collector,
    echoed,
    fast,
    logger,
    idles: () => idles,
    messages: () =>
      col ? col.datagrams.map((g) => g.message).filter((m) => !m.startsWith('adminalert: Going into listen mode')) : [],
    stop: async () => {
      fast?.close();
      await sensor.stop();
      await logger.close();
      col?.close();
      cleanup();
    },
  };
  running.push(d);
  return d;
};

const stats = () => ({ ...alert.stats() });
const delta = (before: { sent: number; handed: number }) => {
  const now = alert.stats();
  return { sent: now.sent - before.sent, handed: now.handed - before.handed };
};
// A probe from `from` (IPv4 on loopback, or ::1), and the pipeline done with it (its blocked line written, then
// idle again: its history line is written after the blocked one, so the blocked line alone came too early).
const hit = async (d: Daemon, from: string): Promise<void> => {
  const idles = d.idles();
  await probe(d.port, from === '::1' ? '::1' : '127.0.0.1', from === '::1' ? undefined : from);
  await waitFor(() => readFileSync(join(d.dir, 'blocked.tcp'), 'latin1').includes(`/${from} `) && d.idles() > idles, {
    timeoutMs: 5000,
  });
};
const connectLine = (ip: string, port: number) => `attackalert: Connect from host: ${ip}/${ip} to TCP port: ${port}`;

it('the native trap ports with the C alert path are built (CI builds them at npm ci)', () => {
  if (!isCi && !nativeAlert) {
    console.log(`native trap ports: ${nativeTrapStatus}`);
    return;
  }
  expect(nativeAlert).not.toBeNull();
});

describe('the alert line from C', () => {
  t('is the line the pipeline writes itself, byte for byte, with the rest of the probe handled as before', async () => {
    const runs: { raw: string[]; msgs: string[] }[] = [];
    for (const fast of [true, false]) {
      const d = await start({ fast });
      expect(d.fast !== null).toBe(fast);
      const before = stats();
      await hit(d, '127.0.0.2');
      await hit(d, '::1');
      await waitFor(() => d.messages().filter((m) => m.includes('blocked via wrappers')).length === 2, {
        timeoutMs: 5000,
      });
      await d.col.settle(100);
      expect(delta(before)).toEqual(fast ? { sent: 2, handed: 0 } : { sent: 0, handed: 0 });
      // The same header (facility, severity, tag, pid) as every other line.
      for (const raw of d.col.raw) expect(parseDatagram(raw)).toMatchObject({ pri: '29', pid: process.pid });
      expect(d.echoed).toEqual(fast ? [connectLine('127.0.0.2', d.port), connectLine('::1', d.port)] : []);
      expect(readFileSync(join(d.dir, 'hosts.deny'), 'latin1')).toBe('ALL: 127.0.0.2\nALL: [::1]\n');
      runs.push({
        raw: d.col.raw.map((r) => r.replace(/^<29>... .. ..:..:.. /, '').replaceAll(String(d.port), 'PORT')),
        msgs: d.messages(),
      });
      // The C path is one per process (one daemon): stop this one before the next starts.
      await running.pop()?.stop();
    }
    expect(runs[0]!.raw).toEqual(runs[1]!.raw);
    expect(runs[0]!.msgs.map((m) => m.replace(/port: \d+/, 'port: P'))).toEqual([
      connectLine('127.0.0.2', 0).replace('port: 0', 'port: P'),
      'attackalert: Host 127.0.0.2 has been blocked via wrappers with string: "ALL: 127.0.0.2"',
      connectLine('::1', 0).replace('port: 0', 'port: P'),
      'attackalert: Host ::1 has been blocked via wrappers with string: "ALL: [::1]"',
    ]);
  });

  t(
    'an address on the ignore list (IPv4, IPv6, .static) goes to the pipeline, which logs nothing; a change to the list counts on the next probe',
    async () => {
      const d = await start({ ignore: '127.0.0.5\n::1/128\n' });
      let before = stats();
      await probe(d.port, '127.0.0.1', '127.0.0.5');
      await probe(d.port, '::1');
      expect(delta(before)).toEqual({ sent: 0, handed: 2 });
      // The file changes: C sees another stat and hands the probe to the pipeline, which reads the new list.
      appendFileSync(join(d.dir, 'ignore'), '127.0.0.6\n');
      before = stats();
      await probe(d.port, '127.0.0.1', '127.0.0.6');
      await sleep(100);
      expect(delta(before)).toEqual({ sent: 0, handed: 1 });
      // Re-armed with the new list: .6 is handed to the pipeline by the table now, .7 alerted from C.
      before = stats();
      await probe(d.port, '127.0.0.1', '127.0.0.6');
      await hit(d, '127.0.0.7');
      expect(delta(before)).toEqual({ sent: 1, handed: 1 });
      // IGNORE_FILE.static appears.
      writeFileSync(join(d.dir, 'ignore.static'), '127.0.0.0/24\n');
      await probe(d.port, '127.0.0.1', '127.0.0.8');
      await probe(d.port, '127.0.0.1', '127.0.0.9');
      await d.col.settle(100);
      expect(d.messages().filter((m) => m.startsWith('attackalert: Connect'))).toEqual([
        connectLine('127.0.0.7', d.port),
      ]);
    },
  );

  t('a missing ignore file or one with a bad netmask leaves every line to the pipeline', async () => {
    const d = await start({ ignore: '127.0.0.5/99\n' });
    const before = stats();
    await probe(d.port, '127.0.0.1', '127.0.0.2');
    await waitFor(() => d.messages().some((m) => m.includes('blocked via wrappers')), { timeoutMs: 5000 });
    expect(delta(before).sent).toBe(0);
    expect(d.messages()[0]).toMatch(/^adminalert: Invalid netmask in config file: 127.0.0.5\/99/);
    expect(d.messages()[1]).toBe(connectLine('127.0.0.2', d.port));
  });

  t('while a probe is in flight the next one waits for it: the lines of two probes never interleave', async () => {
    const d = await start({ conf: `SCAN_TRIGGER="0"\nKILL_ROUTE="SLOW $TARGET$"\n`, slowRoute: true });
    const before = stats();
    await Promise.all([
      probe(d.port, '127.0.0.1', '127.0.0.11'),
      sleep(20).then(() => probe(d.port, '127.0.0.1', '127.0.0.12')),
    ]);
    await waitFor(() => d.messages().filter((m) => m.includes('dropped route')).length === 2, { timeoutMs: 5000 });
    const order = d.messages().map((m) => `${/127\.0\.0\.\d+/.exec(m)?.[0]} ${m.split(' ')[1]}`);
    expect(order).toEqual([
      '127.0.0.11 Connect',
      '127.0.0.11 Host',
      '127.0.0.11 Host',
      '127.0.0.12 Connect',
      '127.0.0.12 Host',
      '127.0.0.12 Host',
    ]);
    // The first disarmed C: the second was the pipeline's alone.
    expect(delta(before)).toEqual({ sent: 1, handed: 0 });
  });

  t('SCAN_TRIGGER above 1 and RESOLVE_HOST keep the line in the pipeline', async () => {
    for (const conf of ['SCAN_TRIGGER="2"\n', 'SCAN_TRIGGER="0"\nRESOLVE_HOST="1"\n']) {
      const d = await start({ conf });
      expect(d.fast).toBeNull();
    }
  });

  t('a line the pipeline had to queue (syslog full) leaves before the next alert', async () => {
    const tmp = makeTmpDir('ps-fast-full-');
    const sock = join(tmp.dir, 'full.sock');
    // A syslog that reads nothing for 1.5 s, then prints every datagram it got, in order.
    const py =
      'import socket,sys,time\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("up",flush=True)\ntime.sleep(1.5)\ns.settimeout(1.0)\ntry:\n  while True: sys.stdout.write(s.recv(2048).decode("latin1").split(": ",1)[1].rstrip("\\n")+"\\n")\nexcept socket.timeout: pass\n';
    const child = spawn('python3', ['-c', py, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('latin1').on('data', (s: string) => {
      out += s;
    });
    await waitFor(() => out.startsWith('up'), { timeoutMs: 5000 });
    const d = await start({ log: sock });
    expect(d.fast).not.toBeNull();
    // More lines than the kernel queues (net.unix.max_dgram_qlen, 10 here): the rest wait in the pipeline's queue.
    for (let i = 0; i < 20; i++) d.logger.log(`adminalert: filler ${i}`);
    expect(d.logger.idle()).toBe(false);
    const before = stats();
    await probe(d.port, '127.0.0.1', '127.0.0.20');
    // Disarmed by the queued line: C did nothing with this probe.
    expect(delta(before)).toEqual({ sent: 0, handed: 0 });
    await new Promise((r) => child.on('exit', r));
    const lines = out
      .split('\n')
      .slice(1)
      .filter((l) => l !== '' && !l.startsWith('adminalert: Going into'));
    expect(lines.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => `adminalert: filler ${i}`));
    expect(lines[20]).toBe(connectLine('127.0.0.20', d.port));
    tmp.cleanup();
  });
});

describe('the table C follows (src/portsentry/alert-table.ts)', () => {
  const snap = (entries: string[]) => ({
    files: [] as [string, bigint[] | null][],
    entries: entries.map((e) => parseCidr(e)!),
    key: 'test',
  });
  // The test sets the one table of this process: none is left behind.
  afterEach(() => {
    alert.ready(false);
    alert.table(null);
  });

  t(
    "C's datagram for every address it alerts is the pipeline's own, byte for byte; it leaves ::/96 (but :: and ::1) to the pipeline",
    () => {
      const now = Date.now();
      const table = alertTable(snap([]), 4242, now)!;
      alert.table(table.bytes);
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
          fc.integer({ min: 0, max: 15 }),
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: 0, max: 65535 }),
          fc.integer({ min: 0, max: CLOCK_SECONDS - 1 }),
          (raw, zeroFrom, shape, port, k) => {
            const b = Uint8Array.from(raw);
            // Runs of zero groups (what compression is about), IPv4-mapped and ::/96.
            if (shape === 1) b.fill(0, zeroFrom, Math.min(16, zeroFrom + 6));
            if (shape === 2) {
              b.fill(0, 0, 10);
              b[10] = 0xff;
              b[11] = 0xff;
            }
            if (shape === 3) b.fill(0, 0, 12 + (zeroFrom % 2) * 3);
            const second = table.first + k;
            const got = alert.preview(b, port, second);
            const dottedInC =
              b.subarray(0, 12).every((x) => x === 0) && !(b[12] === 0 && b[13] === 0 && b[14] === 0 && b[15]! <= 1);
            if (dottedInC) return got === null;
            const ip = Addr.fromIp(ipaddr.fromByteArray([...b])).text;
            return got === alertDatagram(new Date(second * 1000), 4242, ip, port);
          },
        ),
        { numRuns: 3000 },
      );
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 65535 }), (b, port) => {
          const ip = [...b].join('.');
          return alert.preview(b, port, table.first) === alertDatagram(new Date(table.first * 1000), 4242, ip, port);
        }),
      );
    },
  );

  t('an ignore entry hands its peers to the pipeline; so does a second outside the clock', () => {
    const table = alertTable(snap(['192.0.2.0/24', '2001:db8::/32', '203.0.113.7']), 1, Date.now())!;
    alert.table(table.bytes);
    const v4 = (s: string) => Uint8Array.from(s.split('.').map(Number));
    const v6 = (s: string) => Uint8Array.from(ipaddr.parse(s).toByteArray());
    expect(alert.preview(v4('192.0.2.77'), 1, table.first)).toBeNull();
    expect(alert.preview(v6('::ffff:192.0.2.77'), 1, table.first)).toBeNull();
    expect(alert.preview(v6('2001:db8:5::1'), 1, table.first)).toBeNull();
    expect(alert.preview(v4('203.0.113.7'), 1, table.first)).toBeNull();
    expect(alert.preview(v4('203.0.113.8'), 1, table.first)).toContain('Connect from host: 203.0.113.8/203.0.113.8 ');
    expect(alert.preview(v6('2001:db9::1'), 1, table.first)).toContain('host: 2001:db9::1/2001:db9::1 to TCP port: 1');
    expect(alert.preview(v4('203.0.113.8'), 1, table.first - 1)).toBeNull();
    expect(alert.preview(v4('203.0.113.8'), 1, table.end)).toBeNull();
    expect(alert.preview(v4('203.0.113.8'), 1, table.end - 1)).not.toBeNull();
  });

  t('the timer gives C a new table before its clock runs out, and stops with close()', async () => {
    const { dir, cleanup } = makeTmpDir('ps-fast-clock-');
    writeFileSync(join(dir, 'ignore'), '# none\n');
    const col = new Collector(join(dir, 'log.sock'));
    const logger = openLogger({ stdout: false, syslogPath: col.path });
    const { conf } = parseConf(`IGNORE_FILE="${dir}/ignore"\nSCAN_TRIGGER="0"\n`, 'test.conf');
    const s0 = Math.floor(Date.now() / 1000);
    const clock = new ManualClock(s0 * 1000);
    const fast = FastAlert.open(alert, conf, new IgnoreGate(join(dir, 'ignore'), () => []), logger, { pid: 7, clock });
    expect(fast).not.toBeNull();
    const peer = Uint8Array.from([198, 51, 100, 1]);
    expect(alert.preview(peer, 1, s0 + CLOCK_SECONDS - 1)).toContain(' portsentry[7]: attackalert: Connect ');
    expect(alert.preview(peer, 1, s0 + CLOCK_SECONDS)).toBeNull();
    // Every 60 s the timer looks; at 240 s fewer than 120 s of clock are left.
    clock.advance(180_000);
    expect(alert.preview(peer, 1, s0 + CLOCK_SECONDS)).toBeNull();
    clock.advance(60_000);
    expect(alert.preview(peer, 1, s0 + 240 + CLOCK_SECONDS - 1)).not.toBeNull();
    expect(alert.preview(peer, 1, s0 + 239)).toBeNull();
    fast?.close();
    expect(clock.pending()).toBe(0);
    expect(alert.preview(peer, 1, s0 + 240)).toBeNull();
    await logger.close();
    col.close();
    cleanup();
  });

  t('a table of another version, cut short or with bytes after its end is refused, and C has none then', () => {
    const good = alertTable(snap([]), 1, Date.now())!.bytes;
    const other = Uint8Array.from(good);
    other[0] = 99;
    expect(() => alert.table(other)).toThrow('another version');
    expect(alert.ready(true)).toBe(false);
    expect(() => alert.table(good.subarray(0, good.length - 1))).toThrow('bad alert table');
    expect(() => alert.table(Uint8Array.from([...good, 0]))).toThrow('bad alert table');
    expect(alert.preview(Uint8Array.from([203, 0, 113, 8]), 1, Math.floor(Date.now() / 1000))).toBeNull();
    alert.table(good);
    expect(alert.preview(Uint8Array.from([203, 0, 113, 8]), 1, Math.floor(Date.now() / 1000))).not.toBeNull();
  });
});
