import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAddr, type Addr } from '../../src/core/addr.js';
import { ManualClock } from '../../src/core/clock.js';
import { BlockedStore, isListedBlocked } from '../../src/portsentry/blocked.js';
import { parseConf } from '../../src/portsentry/conf.js';
import type { ProbeEvent } from '../../src/portsentry/event.js';
import { IgnoreGate } from '../../src/portsentry/ignore-gate.js';
import { ownAddresses } from '../../src/portsentry/ignore.js';
import * as L from '../../src/portsentry/lines.js';
import { Pipeline, type PipelineDeps } from '../../src/portsentry/pipeline.js';
import { makeCommandRunner } from '../../src/portsentry/run-command.js';
import { StateEngine } from '../../src/portsentry/trigger.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const a = (s: string): Addr => parseAddr(s) as Addr;
const AT = new Date(2026, 10, 25, 4, 5, 19);

// A pipeline over real files and real commands in a temp dir; returns the syslog lines it wrote.
const setup = (
  dir: string,
  confBody: string,
  own: Addr[] = [],
  hostsDeny = `${dir}/hosts.deny`,
  resolve = async (x: Addr) => x.text,
  extra: Partial<PipelineDeps> & { gateways?: Addr[] } = {},
) => {
  const text = `BLOCKED_FILE="${dir}/blocked"\nHISTORY_FILE="${dir}/history"\nIGNORE_FILE="${dir}/ignore"\n${confBody}`;
  const { conf, errors } = parseConf(text, 'test.conf');
  expect(errors).toEqual([]);
  writeFileSync(`${dir}/blocked.tcp`, '');
  writeFileSync(`${dir}/ignore`, '# none\n');
  const lines: string[] = [];
  const p = new Pipeline({
    conf,
    log: (l) => lines.push(l),
    ignore: new IgnoreGate(
      `${dir}/ignore`,
      () => own,
      () => extra.gateways ?? [],
    ),
    engine: new StateEngine(conf.scanTrigger ?? 0),
    store: new BlockedStore(`${dir}/blocked.tcp`, `${dir}/history`),
    hostsDeny,
    run: makeCommandRunner(1000),
    resolve,
    now: () => AT,
    ...extra,
  });
  const hit = (src: string, port = 1, proto: 'tcp' | 'udp' = 'tcp'): Promise<void> =>
    p.submit({ proto, mode: proto, src: a(src), dstPort: port, at: 0 } satisfies ProbeEvent);
  return { lines, hit, p };
};

const withDir = async (fn: (dir: string) => Promise<void>): Promise<void> => {
  const { dir, cleanup } = makeTmpDir('ps-pipe-');
  try {
    await fn(dir);
  } finally {
    cleanup();
  }
};

describe('blocked file check', () => {
  const file = '1795579519 - 11/25/2026 04:05:19 Host: 11.2.3.4/11.2.3.4 Port: 1 TCP Blocked\n';
  it("fixes 1.2's substring bug: 11.2.3.4 does not make 1.2.3.4 blocked", () => {
    expect(isListedBlocked(file, a('1.2.3.4'))).toBe(false);
    expect(isListedBlocked(file, a('11.2.3.4'))).toBe(true);
  });
  it('reads a resolved name and IPv6', () => {
    expect(isListedBlocked('1 - x Host: h.example/2001:db8::2 Port: 1 TCP Blocked\n', a('2001:db8:0::2'))).toBe(true);
  });
  it('the store reads the file again only when it changed, and sees edits by hand, removal and a new file', () =>
    withDir(async (dir) => {
      const blocked = join(dir, 'blocked.tcp');
      const store = new BlockedStore(blocked, join(dir, 'history'));
      writeFileSync(blocked, file);
      expect(store.isBlocked(a('11.2.3.4')).blocked).toBe(true);
      await store.record('2 - x Host: 192.0.2.9/192.0.2.9 Port: 1 TCP Blocked\n');
      expect(store.isBlocked(a('192.0.2.9')).blocked).toBe(true);
      writeFileSync(blocked, '3 - x Host: 192.0.2.7/192.0.2.7 Port: 1 TCP Blocked\n'); // an edit by hand
      expect(store.isBlocked(a('192.0.2.9')).blocked).toBe(false);
      expect(store.isBlocked(a('192.0.2.7')).blocked).toBe(true);
      rmSync(blocked);
      expect(store.isBlocked(a('192.0.2.7'))).toEqual({ blocked: false, syslog: [L.blockedMissingForRead(blocked)] });
      writeFileSync(blocked, '');
      expect(store.isBlocked(a('192.0.2.7'))).toEqual({ blocked: false, syslog: [] });
    }));
});

describe('blocked file reads under many blocks', () => {
  it('our own appends do not make the next check read the whole file again; an edit by hand still does', () =>
    withDir(async (dir) => {
      const blocked = join(dir, 'blocked.tcp');
      writeFileSync(blocked, '');
      const store = new BlockedStore(blocked, join(dir, 'history'));
      expect(store.isBlocked(a('192.0.2.9')).blocked).toBe(false);
      for (let i = 1; i <= 50; i++) {
        await store.record(`${i} - x Host: 198.51.100.${i}/198.51.100.${i} Port: 1 TCP Blocked\n`);
        expect(store.isBlocked(a(`198.51.100.${i}`)).blocked).toBe(true);
      }
      expect(store.reads).toBe(1);
      writeFileSync(blocked, '1 - x Host: 192.0.2.9/192.0.2.9 Port: 1 TCP Blocked\n'); // by hand
      expect(store.isBlocked(a('192.0.2.9')).blocked).toBe(true);
      expect(store.isBlocked(a('198.51.100.1')).blocked).toBe(false);
      expect(store.reads).toBe(2);
    }));
});

describe('own addresses', () => {
  it("the default reader lists this host's loopback", () => {
    expect(ownAddresses().map(String)).toContain('127.0.0.1');
  });
});

describe('pipeline: 1.2 order and bookkeeping', () => {
  it('BLOCK_TCP=0 still writes Blocked lines, later hits say already blocked', () =>
    withDir(async (dir) => {
      const { lines, hit } = setup(dir, 'BLOCK_TCP="0"\nSCAN_TRIGGER="0"\n');
      await hit('192.0.2.2', 1);
      await hit('192.0.2.2', 11);
      expect(lines).toEqual([
        'attackalert: Connect from host: 192.0.2.2/192.0.2.2 to TCP port: 1',
        'attackalert: Ignoring TCP response per configuration file setting.',
        'attackalert: Connect from host: 192.0.2.2/192.0.2.2 to TCP port: 11',
        'attackalert: Host: 192.0.2.2 is already blocked. Ignoring',
      ]);
      const want = `${Math.floor(AT.getTime() / 1000)} - 11/25/2026 04:05:19 Host: 192.0.2.2/192.0.2.2 Port: 1 TCP Blocked\n`;
      expect(readFileSync(`${dir}/blocked.tcp`, 'utf8')).toBe(want);
      expect(readFileSync(`${dir}/history`, 'utf8')).toBe(want);
      expect(statSync(`${dir}/history`).mode & 0o777).toBe(0o600);
    }));

  it('BLOCK_TCP=1: hosts.deny, route, command in that order; $TARGET$ $PORT$ $MODE$ as separate argv', () =>
    withDir(async (dir) => {
      const { lines, hit } = setup(
        dir,
        `BLOCK_TCP="1"\nKILL_HOSTS_DENY="ALL: $TARGET$ : DENY"\nKILL_ROUTE="/bin/true -s $TARGET$"\nKILL_RUN_CMD="/bin/sh ${dir}/cmd.sh $TARGET$ $PORT$ $MODE$"\n`,
      );
      writeFileSync(`${dir}/cmd.sh`, `printf '%s|' "$@" > ${dir}/args\n`);
      await hit('192.0.2.2', 6667);
      expect(lines.slice(1)).toEqual([
        'attackalert: Host 192.0.2.2 has been blocked via wrappers with string: "ALL: 192.0.2.2 : DENY"',
        'attackalert: Host 192.0.2.2 has been blocked via dropped route using command: "/bin/true -s 192.0.2.2"',
        `attackalert: External command run for host: 192.0.2.2 using command: "/bin/sh ${dir}/cmd.sh 192.0.2.2 6667 tcp"`,
      ]);
      expect(readFileSync(`${dir}/args`, 'utf8')).toBe('192.0.2.2|6667|tcp|');
      expect(readFileSync(`${dir}/hosts.deny`, 'utf8')).toBe('ALL: 192.0.2.2 : DENY\n');
    }));

  it('KILL_RUN_CMD_FIRST runs the command first', () =>
    withDir(async (dir) => {
      const { lines, hit } = setup(
        dir,
        'BLOCK_TCP="1"\nKILL_HOSTS_DENY="ALL: $TARGET$"\nKILL_RUN_CMD="/bin/true"\nKILL_RUN_CMD_FIRST="1"\n',
      );
      await hit('192.0.2.2');
      expect(lines.slice(1).map((l) => l.slice(0, 30))).toEqual([
        'attackalert: External command ',
        'attackalert: Host 192.0.2.2 ha',
      ]);
    }));

  it('a failing action: every step attempted, "Could not block", nothing recorded; the daemon goes on', () =>
    withDir(async (dir) => {
      const { lines, hit } = setup(
        dir,
        'BLOCK_TCP="1"\nKILL_ROUTE="/nonexistent/route $TARGET$"\nKILL_RUN_CMD="/bin/sleep 5"\n',
      );
      await hit('192.0.2.2');
      expect(lines.slice(1)).toEqual([
        'adminalert: ERROR: There was an error trying to block host (exec fail) 192.0.2.2',
        'adminalert: ERROR: There was an error trying to run command (system fail) 192.0.2.2',
        'attackalert: ERROR: Could not block host 192.0.2.2 !!',
      ]);
      expect(readFileSync(`${dir}/blocked.tcp`, 'utf8')).toBe('');
      expect(existsSync(`${dir}/history`)).toBe(false);
    }));

  it('KILL_ROUTE without $TARGET$ fails as in 1.2; an unopenable hosts.deny logs both 1.2 lines', () =>
    withDir(async (dir) => {
      const { lines, hit } = setup(
        dir,
        'BLOCK_TCP="1"\nKILL_ROUTE="/bin/true"\nKILL_HOSTS_DENY="ALL: $TARGET$"\n',
        [],
        `${dir}/no/such/dir/hosts.deny`,
      );
      await hit('192.0.2.2');
      expect(lines.slice(1)).toEqual([
        `adminalert: cannot open hosts.deny file: ${dir}/no/such/dir/hosts.deny for blocking.`,
        'securityalert: ERROR: There was an error trying to block host 192.0.2.2',
        'adminalert: No target variable specified in KILL_ROUTE option. Skipping.\n',
        'attackalert: ERROR: Could not block host 192.0.2.2 !!',
      ]);
    }));

  it('BLOCK_UDP=2 runs only KILL_RUN_CMD', () =>
    withDir(async (dir) => {
      const { lines, hit } = setup(
        dir,
        'BLOCK_UDP="2"\nKILL_HOSTS_DENY="ALL: $TARGET$"\nKILL_RUN_CMD="/bin/true $MODE$"\n',
      );
      writeFileSync(`${dir}/blocked.udp`, '');
      await hit('192.0.2.2', 7, 'udp');
      expect(lines.slice(1)).toEqual([
        'attackalert: External command run for host: 192.0.2.2 using command: "/bin/true udp"',
      ]);
    }));

  it('SCAN_TRIGGER=3: silent below the trigger', () =>
    withDir(async (dir) => {
      const { lines, hit } = setup(dir, 'SCAN_TRIGGER="3"\n');
      await hit('192.0.2.2', 1);
      await hit('192.0.2.2', 1);
      expect(lines).toEqual([]);
      await hit('192.0.2.2', 2);
      expect(lines[0]).toBe('attackalert: Connect from host: 192.0.2.2/192.0.2.2 to TCP port: 2');
    }));

  it('ignored hosts leave no trace; own addresses are logged, never acted on', () =>
    withDir(async (dir) => {
      const { lines, hit } = setup(dir, 'BLOCK_TCP="1"\nKILL_HOSTS_DENY="ALL: $TARGET$"\n', [a('192.0.2.1')]);
      writeFileSync(`${dir}/ignore`, '192.0.2.7\n');
      await hit('192.0.2.7');
      expect(lines).toEqual([]);
      await hit('192.0.2.1');
      expect(lines).toEqual([
        'attackalert: Connect from host: 192.0.2.1/192.0.2.1 to TCP port: 1',
        'attackalert: Host: 192.0.2.1 is an address of this host. Not blocking.',
      ]);
      expect(existsSync(`${dir}/hosts.deny`)).toBe(false);
    }));

  it('IPv6: hosts.deny in brackets, KILL_ROUTE6 for routes, plain KILL_ROUTE skipped with a line', () =>
    withDir(async (dir) => {
      const { lines, hit } = setup(
        dir,
        'BLOCK_TCP="1"\nKILL_HOSTS_DENY="ALL: $TARGET$ : DENY"\nKILL_ROUTE="/bin/false $TARGET$"\nKILL_ROUTE6="/bin/true -6 $TARGET$"\n',
      );
      await hit('2001:db8::2');
      expect(lines.slice(1)).toEqual([
        'attackalert: Host 2001:db8::2 has been blocked via wrappers with string: "ALL: [2001:db8::2] : DENY"',
        'attackalert: Host 2001:db8::2 has been blocked via dropped route using command: "/bin/true -6 2001:db8::2"',
      ]);
      const { lines: l2, hit: h2 } = setup(`${dir}`, 'BLOCK_TCP="1"\nKILL_ROUTE="/bin/true $TARGET$"\n');
      writeFileSync(`${dir}/blocked.tcp`, '');
      await h2('2001:db8::3');
      expect(l2.slice(1, 2)).toEqual(['adminalert: No KILL_ROUTE6 option for IPv6 host 2001:db8::3. Skipping route.']);
    }));

  it('RESOLVE_HOST: the name in attack, history and blocked lines; commands and hosts.deny get the address', () =>
    withDir(async (dir) => {
      const { lines, hit } = setup(
        dir,
        'RESOLVE_HOST = "1"\nBLOCK_TCP="1"\nKILL_HOSTS_DENY="ALL: $TARGET$"\nKILL_RUN_CMD="/bin/true $TARGET$"\n',
        [],
        `${dir}/hosts.deny`,
        async (x) => (x.text === '192.0.2.2' ? 'scanner.example' : x.text),
      );
      await hit('192.0.2.2');
      expect(lines).toEqual([
        'attackalert: Connect from host: scanner.example/192.0.2.2 to TCP port: 1',
        'attackalert: Host 192.0.2.2 has been blocked via wrappers with string: "ALL: 192.0.2.2"',
        'attackalert: External command run for host: 192.0.2.2 using command: "/bin/true 192.0.2.2"',
      ]);
      expect(readFileSync(`${dir}/history`, 'utf8')).toContain(
        ' Host: scanner.example/192.0.2.2 Port: 1 TCP Blocked\n',
      );
    }));
});

describe('default gateways', () => {
  it('a probe from a default gateway is logged, never acted on or recorded', () =>
    withDir(async (dir) => {
      const { lines, hit } = setup(dir, 'BLOCK_TCP="1"\nKILL_HOSTS_DENY="ALL: $TARGET$"\n', [], undefined, undefined, {
        gateways: [a('192.0.2.254'), a('2001:db8::fffe')],
      });
      await hit('192.0.2.254');
      await hit('2001:db8::fffe');
      expect(lines).toEqual([
        'attackalert: Connect from host: 192.0.2.254/192.0.2.254 to TCP port: 1',
        'attackalert: Host: 192.0.2.254 is a default gateway of this host. Not blocking.',
        'attackalert: Connect from host: 2001:db8::fffe/2001:db8::fffe to TCP port: 1',
        'attackalert: Host: 2001:db8::fffe is a default gateway of this host. Not blocking.',
      ]);
      expect(existsSync(`${dir}/hosts.deny`)).toBe(false);
      expect(readFileSync(`${dir}/blocked.tcp`, 'utf8')).toBe('');
    }));
});

describe('BLOCK_RATE_MAX', () => {
  const CONF = (max: number): string => `BLOCK_TCP="1"\nKILL_HOSTS_DENY="ALL: $TARGET$"\nBLOCK_RATE_MAX="${max}"\n`;
  const hosts = (n: number): string[] => Array.from({ length: n }, (_, i) => `198.51.100.${i + 1}`);
  const denied = (dir: string): string[] =>
    (existsSync(`${dir}/hosts.deny`) ? readFileSync(`${dir}/hosts.deny`, 'utf8') : '').split('\n').filter(Boolean);
  // Everything but our adminalert lines about the queue, to compare with a run without the ceiling.
  const classic = (lines: string[]): string[] => lines.filter((l) => !/BLOCK_RATE_MAX|Block queue/.test(l));

  it('past the ceiling every probe is still logged and the blocks come later, in order, none lost', () =>
    withDir(async (dir) => {
      const clock = new ManualClock(1000);
      const { lines, hit, p } = setup(dir, CONF(2), [], undefined, undefined, { clock });
      for (const h of hosts(5)) await hit(h);
      await hit('198.51.100.4', 11); // queued: counts as blocked for its next probe
      expect(denied(dir)).toEqual(['ALL: 198.51.100.1', 'ALL: 198.51.100.2']);
      expect(lines.filter((l) => l.includes('Connect from'))).toHaveLength(6);
      expect(lines).toContain(
        'adminalert: BLOCK_RATE_MAX of 2 blocks per second reached: further blocks are queued in order.',
      );
      expect(lines).toContain('attackalert: Host: 198.51.100.4 is already blocked. Ignoring');
      expect(p.queuedBlocks).toBe(3);
      clock.advance(999);
      expect(denied(dir)).toHaveLength(2);
      clock.advance(1);
      await waitFor(() => denied(dir).length === 4, { what: 'two more blocks' });
      clock.advance(1000);
      await waitFor(() => denied(dir).length === 5, { what: 'the last block' });
      await waitFor(() => lines.at(-1)?.startsWith('adminalert: Block queue empty'), { what: 'drained line' });
      expect(denied(dir)).toEqual(hosts(5).map((h) => `ALL: ${h}`));
      expect(lines.at(-1)).toBe('adminalert: Block queue empty: 3 blocks waited, the longest 2.0 s.');
      const history = readFileSync(`${dir}/history`, 'utf8').split('\n').filter(Boolean);
      expect(history.map((l) => l.replace(/^.* Host: /, ''))).toEqual(
        hosts(5).map((h) => `${h}/${h} Port: 1 TCP Blocked`),
      );
    }));

  it('the same lines as without the ceiling (only later), the same history', () =>
    withDir(async (dir) => {
      const run = async (sub: string, max: number): Promise<{ lines: string[]; history: string }> => {
        mkdirSync(`${dir}/${sub}`);
        const clock = new ManualClock(0);
        const { lines, hit } = setup(`${dir}/${sub}`, CONF(max), [], undefined, undefined, { clock });
        for (const h of hosts(4)) await hit(h);
        // One block a second: each turn's timer is armed when the turn before it ran.
        for (let n = denied(`${dir}/${sub}`).length + 1; n <= 4; n++) {
          clock.advance(1000);
          await waitFor(() => denied(`${dir}/${sub}`).length === n, { what: `${sub}: block ${n}` });
        }
        await waitFor(() => max === 0 || lines.some((l) => l.startsWith('adminalert: Block queue empty')), {
          what: 'drained',
        });
        return { lines, history: readFileSync(`${dir}/${sub}/history`, 'utf8') };
      };
      const off = await run('off', 0);
      const on = await run('on', 1);
      expect(off.lines.filter((l) => l.startsWith('adminalert'))).toEqual([]);
      expect(classic(on.lines).sort()).toEqual([...off.lines].sort());
      expect(on.history).toBe(off.history);
    }));

  it('the queue keeps draining when the clock runs a timer at once because its instant already passed', () =>
    withDir(async (dir) => {
      // As the system clock does when a millisecond ticks between the pipeline's reading and its own: here every
      // reading is 300 ms later, and at() fires at once when the instant is not after a fresh reading.
      let t = 0;
      const later: (() => void)[] = [];
      const clock = {
        now: () => (t += 300),
        at: (when: number, fn: () => void) => {
          if (when <= clock.now()) fn();
          else later.push(fn);
          return () => {};
        },
      };
      const { hit } = setup(dir, CONF(1), [], undefined, undefined, { clock });
      for (const h of hosts(4)) await hit(h);
      await waitFor(
        () => {
          later.splice(0).forEach((f) => f());
          return denied(dir).length === 4;
        },
        { what: 'all four blocked' },
      );
    }));

  it('a full queue: the host is logged as not queued and tries again on its next probe', () =>
    withDir(async (dir) => {
      const clock = new ManualClock(0);
      const { lines, hit, p } = setup(dir, CONF(1), [], undefined, undefined, { clock, blockQueueMax: 2 });
      for (const h of hosts(4)) await hit(h);
      expect(lines).toContain(
        'attackalert: ERROR: Block queue full (2 hosts waiting): host 198.51.100.4 not queued; its next probe tries again.',
      );
      expect(p.queuedBlocks).toBe(2);
      clock.advance(1000);
      await waitFor(() => denied(dir).length === 2, { what: 'second block' });
      await hit('198.51.100.4');
      expect(p.queuedBlocks).toBe(2);
      clock.advance(2000);
      await waitFor(() => denied(dir).length === 4, { what: 'all blocked' });
      expect(denied(dir).at(-1)).toBe('ALL: 198.51.100.4');
    }));

  it('BLOCK_TCP="0" (log only) never queues; stop() logs the blocks left', () =>
    withDir(async (dir) => {
      const clock = new ManualClock(0);
      const quiet = setup(dir, 'BLOCK_TCP="0"\nBLOCK_RATE_MAX="1"\n', [], undefined, undefined, { clock });
      for (const h of hosts(3)) await quiet.hit(h);
      expect(quiet.p.queuedBlocks).toBe(0);
      expect(readFileSync(`${dir}/blocked.tcp`, 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
      mkdirSync(`${dir}/b`);
      const { lines, hit, p } = setup(`${dir}/b`, CONF(1), [], undefined, undefined, { clock });
      for (const h of hosts(3)) await hit(h);
      p.stop();
      expect(lines.at(-1)).toBe('adminalert: Shutting down with 2 queued blocks not done (BLOCK_RATE_MAX).');
      clock.advance(5000);
      expect(denied(`${dir}/b`)).toEqual(['ALL: 198.51.100.1']);
    }));
});
