import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAddr } from '../../src/core/addr.js';
import * as L from '../../src/portsentry/lines.js';

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../fixtures/portsentry/${name}`, import.meta.url)), 'latin1');
// The captured 1.2 syslog: message text after "portsentry[PID]: ".
const captured = fixture('captured-1.2.log')
  .split('\n')
  .filter(Boolean)
  .map((l) => l.slice(l.indexOf(']: ') + 3));
const has = (msg: string): boolean => captured.includes(msg.replace(/\n$/, ''));
const flags = (on: string[]) => ({
  syn: on.includes('syn'),
  fin: on.includes('fin'),
  ack: on.includes('ack'),
  psh: on.includes('psh'),
  rst: on.includes('rst'),
  urg: on.includes('urg'),
});
const ip = '192.0.2.2';

describe('lines: byte for byte with captured PortSentry 1.2 output', () => {
  it.each([
    ['starting', L.starting()],
    ['active', L.active()],
    ['listen tcp', L.listening('TCP', 54320)],
    ['listen udp', L.listening('UDP', 31337)],
    ['stealth listen tcp', L.stealthListening('TCP', 1)],
    ['stealth listen udp', L.stealthListening('UDP', 54321)],
    ['ignore file error', L.cannotOpenIgnore()],
    ['connect', L.connectFrom('TCP', ip, ip, 1)],
    ['wrappers', L.blockedWrappers(ip, `ALL: ${ip} : DENY`)],
    ['route', L.blockedRoute(ip, `/usr/sbin/iptables -I INPUT -s ${ip} -j DROP`)],
    ['already blocked classic', L.alreadyBlockedClassic(ip)],
    ['ignoring tcp response', L.ignoringResponse('TCP')],
    ['ignoring udp response', L.ignoringResponse('UDP')],
    ['already blocked stealth', L.alreadyBlockedStealth(ip, ip)],
    ['syn scan', L.tcpScanFrom(flags(['syn']), ip, ip, 11)],
    ['fin scan', L.tcpScanFrom(flags(['fin']), ip, ip, 11)],
    ['null scan (leading space)', L.tcpScanFrom(flags([]), ip, ip, 1)],
    ['xmas scan', L.tcpScanFrom(flags(['fin', 'psh', 'urg']), ip, ip, 11)],
    ['udp scan', L.udpScanFrom(ip, ip, 7)],
    ...L.shuttingDown().map((l, i) => [`shutdown ${i}`, l] as [string, string]),
  ])('%s', (_name, line) => {
    expect(has(line)).toBe(true);
  });

  it('blocked/history line matches the captured history byte for byte', () => {
    const hist = fixture('captured-1.2.history').split('\n')[0] as string;
    const epoch = Number(hist.split(' ')[0]);
    // Captured on a UTC machine: compare in UTC.
    const prevTz = process.env.TZ;
    const at = new Date(epoch * 1000);
    const utc = new Date(at.getTime() + at.getTimezoneOffset() * 60000);
    const line = L.blockedLine(utc, ip, ip, 1, 'TCP');
    expect(line.slice(line.indexOf(' - '))).toBe(`${hist.slice(hist.indexOf(' - '))}\n`);
    expect(prevTz).toBe(process.env.TZ);
  });
});

describe('lines: the spec strings for what the capture does not show', () => {
  it.each([
    [L.acceptFailed(1), 'attackalert: Possible stealth scan from unknown host to TCP port: 1 (accept failed)'],
    [L.cannotBind('TCP', 1), 'adminalert: ERROR: could not bind TCP socket: 1. Attempting to continue\n'],
    [L.cannotBindAny('UDP'), 'adminalert: ERROR: could not bind ANY UDP sockets. Shutting down.\n'],
    [L.cannotOpenSocket('UDP'), 'adminalert: ERROR: could not open UDP socket. Aborting\n'],
    [L.cannotOpenSocket('TCP'), 'adminalert: ERROR: could not open TCP socket. Aborting.\n'],
    [L.couldNotBlockClassic(ip), 'attackalert: ERROR: Could not block host 192.0.2.2 !!'],
    [L.couldNotBlockStealth('h', ip, true), 'attackalert: ERROR: Could not block host h/192.0.2.2 !!'],
    [L.couldNotBlockStealth('h', ip, false), 'attackalert: ERROR: Could not block host h/192.0.2.2!!'],
    [
      L.tcpScanFrom(flags(['syn', 'ack', 'rst']), ip, ip, 5),
      'attackalert: Unknown Type: TCP Packet Flags: SYN: 1 FIN: 0 ACK: 1 PSH: 0 URG: 0 RST: 1 from host: 192.0.2.2/192.0.2.2 to TCP port: 5',
    ],
    [
      L.ipOptionsSet('UDP', ip, ip, 9),
      'attackalert: Packet from host: 192.0.2.2/192.0.2.2 to UDP port: 9 has IP options set (detection avoidance technique).',
    ],
    [
      L.illegalHeaderLength('TCP', 3, ip),
      'attackalert: Illegal IP header length detected in TCP packet: 3 from (possible) host: 192.0.2.2\n',
    ],
    [L.quotesMissing('BLOCK_TCP'), 'adminalert: Quotes missing from BLOCK_TCP token. Option skipped\n'],
    [L.invalidNetmask('10.0.0.0/40\n'), 'adminalert: Invalid netmask in config file: 10.0.0.0/40\n  Ignoring entry.\n'],
    [L.noTargetVariable('KILL_ROUTE'), 'adminalert: No target variable specified in KILL_ROUTE option. Skipping.\n'],
    [
      L.macroParseError('$PORT$', 'KILL_RUN_CMD'),
      'adminalert: Error trying to parse $PORT$ Token for KILL_RUN_CMD. Skipping.\n',
    ],
    [L.blockFailed('exec', ip), 'adminalert: ERROR: There was an error trying to block host (exec fail) 192.0.2.2'],
    [L.runFailed('system', ip), 'adminalert: ERROR: There was an error trying to run command (system fail) 192.0.2.2'],
    [L.externalCommand(ip, 'x 1'), 'attackalert: External command run for host: 192.0.2.2 using command: "x 1"'],
    [L.advancedExclude(113), 'adminalert: Advanced mode will manually exclude port: 113 '],
    [
      L.noScanTrigger(),
      'adminalert: ERROR: Could not read SCAN_TRIGGER option from config file. Disabling SCAN DETECTION TRIGGER',
    ],
    [L.cannotRetrieve('BLOCKED_FILE'), 'InitConfig: Cannot retrieve BLOCKED_FILE option! Aborting\n'],
    [
      L.triggerTooLarge(60)[0],
      'securityalert: WARNING: Trigger value 60 is larger than state engine capacity of 50.\n',
    ],
  ])('%j', (got, want) => {
    expect(got).toBe(want);
  });

  it('usage text is the real 1.2 output', () => {
    expect(L.USAGE).toBe(fixture('usage-1.2.txt'));
  });

  it('detection lines follow the mode', () => {
    const a = parseAddr(ip);
    expect(a).not.toBeNull();
    expect(L.detectionLines({ mode: 'udp', dstPort: 7 }, ip, ip)).toEqual([
      'attackalert: Connect from host: 192.0.2.2/192.0.2.2 to UDP port: 7',
    ]);
    expect(L.detectionLines({ mode: 'sudp', dstPort: 7, ipOptions: true }, ip, ip)).toHaveLength(2);
    expect(L.alreadyBlockedLine('atcp', 'h', ip)).toBe('attackalert: Host: h/192.0.2.2 is already blocked Ignoring');
    expect(L.couldNotBlockLine('stcp', 'h', ip)).toBe('attackalert: ERROR: Could not block host h/192.0.2.2 !!');
  });
});
