import { describe, expect, it } from '@jest/globals';
import { readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAddr, type Addr } from '../../src/core/addr.js';
import { BlockedStore, isListedBlocked } from '../../src/portsentry/blocked.js';
import { parseConf } from '../../src/portsentry/conf.js';
import type { ProbeEvent } from '../../src/portsentry/event.js';
import { IgnoreGate } from '../../src/portsentry/ignore-gate.js';
import { ownAddresses } from '../../src/portsentry/ignore.js';
import * as L from '../../src/portsentry/lines.js';
import { Pipeline } from '../../src/portsentry/pipeline.js';
import { makeCommandRunner } from '../../src/portsentry/run-command.js';
import { StateEngine } from '../../src/portsentry/trigger.js';
import { makeTmpDir } from '../helpers/tmp.js';

const a = (s: string): Addr => parseAddr(s) as Addr;
const AT = new Date(2026, 10, 25, 4, 5, 19);

// A pipeline over real files and real commands in a temp dir; returns the syslog lines it wrote.
const setup = (dir: string, confBody: string, own: Addr[] = [], hostsDeny = `${dir}/hosts.deny`, resolve = async (x: Addr) => x.text) => {
  const text = `BLOCKED_FILE="${dir}/blocked"\nHISTORY_FILE="${dir}/history"\nIGNORE_FILE="${dir}/ignore"\n${confBody}`;
  const { conf, errors } = parseConf(text, 'test.conf');
  expect(errors).toEqual([]);
  writeFileSync(`${dir}/blocked.tcp`, '');
  writeFileSync(`${dir}/ignore`, '# none\n');
  const lines: string[] = [];
  const p = new Pipeline({
    conf, log: (l) => lines.push(l), ignore: new IgnoreGate(`${dir}/ignore`, () => own),
    engine: new StateEngine(conf.scanTrigger ?? 0), store: new BlockedStore(`${dir}/blocked.tcp`, `${dir}/history`),
    hostsDeny, run: makeCommandRunner(1000), resolve, now: () => AT,
  });
  const hit = (src: string, port = 1, proto: 'tcp' | 'udp' = 'tcp'): Promise<void> =>
    p.submit({ proto, mode: proto, src: a(src), dstPort: port, at: 0 } satisfies ProbeEvent);
  return { lines, hit };
};

const withDir = async (fn: (dir: string) => Promise<void>): Promise<void> => {
  const { dir, cleanup } = makeTmpDir('ps-pipe-');
  try { await fn(dir); } finally { cleanup(); }
};

describe('blocked file check', () => {
  const file = '1795579519 - 11/25/2026 04:05:19 Host: 11.2.3.4/11.2.3.4 Port: 1 TCP Blocked\n';
  it('fixes 1.2\'s substring bug: 11.2.3.4 does not make 1.2.3.4 blocked', () => {
    expect(isListedBlocked(file, a('1.2.3.4'))).toBe(false);
    expect(isListedBlocked(file, a('11.2.3.4'))).toBe(true);
  });
  it('reads a resolved name and IPv6', () => {
    expect(isListedBlocked('1 - x Host: h.example/2001:db8::2 Port: 1 TCP Blocked\n', a('2001:db8:0::2'))).toBe(true);
  });
  it('the store reads the file again only when it changed, and sees edits by hand, removal and a new file', () => withDir(async (dir) => {
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

describe('own addresses', () => {
  it('the default reader lists this host\'s loopback', () => {
    expect(ownAddresses().map(String)).toContain('127.0.0.1');
  });
});

describe('pipeline: 1.2 order and bookkeeping', () => {
  it('BLOCK_TCP=0 still writes Blocked lines, later hits say already blocked', () => withDir(async (dir) => {
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

  it('BLOCK_TCP=1: hosts.deny, route, command in that order; $TARGET$ $PORT$ $MODE$ as separate argv', () => withDir(async (dir) => {
    const { lines, hit } = setup(dir, `BLOCK_TCP="1"\nKILL_HOSTS_DENY="ALL: $TARGET$ : DENY"\nKILL_ROUTE="/bin/true -s $TARGET$"\nKILL_RUN_CMD="/bin/sh ${dir}/cmd.sh $TARGET$ $PORT$ $MODE$"\n`);
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

  it('KILL_RUN_CMD_FIRST runs the command first', () => withDir(async (dir) => {
    const { lines, hit } = setup(dir, 'BLOCK_TCP="1"\nKILL_HOSTS_DENY="ALL: $TARGET$"\nKILL_RUN_CMD="/bin/true"\nKILL_RUN_CMD_FIRST="1"\n');
    await hit('192.0.2.2');
    expect(lines.slice(1).map((l) => l.slice(0, 30))).toEqual(['attackalert: External command ', 'attackalert: Host 192.0.2.2 ha']);
  }));

  it('a failing action: every step attempted, "Could not block", nothing recorded; the daemon goes on', () => withDir(async (dir) => {
    const { lines, hit } = setup(dir, 'BLOCK_TCP="1"\nKILL_ROUTE="/nonexistent/route $TARGET$"\nKILL_RUN_CMD="/bin/sleep 5"\n');
    await hit('192.0.2.2');
    expect(lines.slice(1)).toEqual([
      'adminalert: ERROR: There was an error trying to block host (exec fail) 192.0.2.2',
      'adminalert: ERROR: There was an error trying to run command (system fail) 192.0.2.2',
      'attackalert: ERROR: Could not block host 192.0.2.2 !!',
    ]);
    expect(readFileSync(`${dir}/blocked.tcp`, 'utf8')).toBe('');
    expect(existsSync(`${dir}/history`)).toBe(false);
  }));

  it('KILL_ROUTE without $TARGET$ fails as in 1.2; an unopenable hosts.deny logs both 1.2 lines', () => withDir(async (dir) => {
    const { lines, hit } = setup(dir, 'BLOCK_TCP="1"\nKILL_ROUTE="/bin/true"\nKILL_HOSTS_DENY="ALL: $TARGET$"\n', [], `${dir}/no/such/dir/hosts.deny`);
    await hit('192.0.2.2');
    expect(lines.slice(1)).toEqual([
      `adminalert: cannot open hosts.deny file: ${dir}/no/such/dir/hosts.deny for blocking.`,
      'securityalert: ERROR: There was an error trying to block host 192.0.2.2',
      'adminalert: No target variable specified in KILL_ROUTE option. Skipping.\n',
      'attackalert: ERROR: Could not block host 192.0.2.2 !!',
    ]);
  }));

  it('BLOCK_UDP=2 runs only KILL_RUN_CMD', () => withDir(async (dir) => {
    const { lines, hit } = setup(dir, 'BLOCK_UDP="2"\nKILL_HOSTS_DENY="ALL: $TARGET$"\nKILL_RUN_CMD="/bin/true $MODE$"\n');
    writeFileSync(`${dir}/blocked.udp`, '');
    await hit('192.0.2.2', 7, 'udp');
    expect(lines.slice(1)).toEqual(['attackalert: External command run for host: 192.0.2.2 using command: "/bin/true udp"']);
  }));

  it('SCAN_TRIGGER=3: silent below the trigger', () => withDir(async (dir) => {
    const { lines, hit } = setup(dir, 'SCAN_TRIGGER="3"\n');
    await hit('192.0.2.2', 1);
    await hit('192.0.2.2', 1);
    expect(lines).toEqual([]);
    await hit('192.0.2.2', 2);
    expect(lines[0]).toBe('attackalert: Connect from host: 192.0.2.2/192.0.2.2 to TCP port: 2');
  }));

  it('ignored hosts leave no trace; own addresses are logged, never acted on', () => withDir(async (dir) => {
    const { lines, hit } = setup(dir, 'BLOCK_TCP="1"\nKILL_HOSTS_DENY="ALL: $TARGET$"\n', [a('192.0.2.1')]);
    writeFileSync(`${dir}/ignore`, '192.0.2.7\n');
    await hit('192.0.2.7');
    expect(lines).toEqual([]);
    await hit('192.0.2.1');
    expect(lines).toEqual(['attackalert: Connect from host: 192.0.2.1/192.0.2.1 to TCP port: 1', 'attackalert: Host: 192.0.2.1 is an address of this host. Not blocking.']);
    expect(existsSync(`${dir}/hosts.deny`)).toBe(false);
  }));

  it('IPv6: hosts.deny in brackets, KILL_ROUTE6 for routes, plain KILL_ROUTE skipped with a line', () => withDir(async (dir) => {
    const { lines, hit } = setup(dir, 'BLOCK_TCP="1"\nKILL_HOSTS_DENY="ALL: $TARGET$ : DENY"\nKILL_ROUTE="/bin/false $TARGET$"\nKILL_ROUTE6="/bin/true -6 $TARGET$"\n');
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

  it('RESOLVE_HOST: the name in attack, history and blocked lines; commands and hosts.deny get the address', () => withDir(async (dir) => {
    const { lines, hit } = setup(dir, 'RESOLVE_HOST = "1"\nBLOCK_TCP="1"\nKILL_HOSTS_DENY="ALL: $TARGET$"\nKILL_RUN_CMD="/bin/true $TARGET$"\n', [], `${dir}/hosts.deny`,
      async (x) => (x.text === '192.0.2.2' ? 'scanner.example' : x.text));
    await hit('192.0.2.2');
    expect(lines).toEqual([
      'attackalert: Connect from host: scanner.example/192.0.2.2 to TCP port: 1',
      'attackalert: Host 192.0.2.2 has been blocked via wrappers with string: "ALL: 192.0.2.2"',
      'attackalert: External command run for host: 192.0.2.2 using command: "/bin/true 192.0.2.2"',
    ]);
    expect(readFileSync(`${dir}/history`, 'utf8')).toContain(' Host: scanner.example/192.0.2.2 Port: 1 TCP Blocked\n');
  }));
});
