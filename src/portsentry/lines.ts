// Every message text PortSentry 1.2 writes, for every mode, byte for byte. A trailing "\n" is kept where 1.2's
// format string has one (glibc sends it; rsyslog drops it). Nothing else in the listener spells a message.
import type { DetectionMode, TcpFlags } from './event.js';

export type Proto = 'TCP' | 'UDP';
const bit = (b: boolean): number => (b ? 1 : 0);

export const VERSION = '1.2';

// Console output (stdout), not syslog.
export const USAGE =
  'PortSentry - Port Scan Detector.\n' +
  'Copyright 1997-2003 Craig H. Rowland <craigrowland at users dot sourceforget dot net>\n' +
  'Licensing restrictions apply. Please see documentation\n' +
  `Version: ${VERSION}\n\n` +
  'usage: portsentry [-tcp -udp -stcp -atcp -sudp -audp]\n\n' +
  '*** PLEASE READ THE DOCS BEFORE USING *** \n\n';
export const NEED_ROOT = 'You need to be root to run this.\n';
export const CONSOLE_CONFIG_MISSING =
  'ERROR: Configuration files are missing/corrupted.\n' +
  'ERROR: Check your syslog for a more detailed error message.\nERROR: PortSentry is shutting down!\n';
export const CONSOLE_CONFIG_CORRUPT =
  'ERROR: Your config file is corrupted/missing mandatory option!\n' +
  'ERROR: Check your syslog for a more detailed error message.\nERROR: PortSentry is shutting down!\n';

// Start, stop, configuration.
export const starting = (): string => `adminalert: PortSentry ${VERSION} is starting.\n`;
export const active = (): string => 'adminalert: PortSentry is now active and listening.\n';
export const shuttingDown = (): string[] => [
  'securityalert: PortSentry is shutting down\n',
  'adminalert: PortSentry is shutting down\n',
];
export const cannotOpenConfig = (file: string): string => `adminalert: Cannot open config file: ${file}. Exiting\n`;
export const configMissing = (): string =>
  'adminalert: ERROR: Configuration files are missing/corrupted. Shutting down.\n';
export const configCorrupt = (): string =>
  'adminalert: ERROR: Your config file is corrupted/missing mandatory option! Shutting down.\n';
export const cannotRetrieve = (key: 'BLOCKED_FILE' | 'HISTORY_FILE' | 'IGNORE_FILE'): string =>
  `InitConfig: Cannot retrieve ${key} option! Aborting\n`;
export const cannotTruncateBlocked = (file: string): string =>
  `adminalert: ERROR: Cannot delete blocked file on startup: ${file}.\n`;
export const quotesMissing = (key: string): string => `adminalert: Quotes missing from ${key} token. Option skipped\n`;
export const noScanTrigger = (): string =>
  'adminalert: ERROR: Could not read SCAN_TRIGGER option from config file. Disabling SCAN DETECTION TRIGGER';
export const noPortsKey = (p: Proto): string => `adminalert: ERROR: Could not read ${p}_PORTS option from config file`;
export const noPortsSupplied = (p: Proto): string =>
  `adminalert: ERROR: No ${p} ports supplied in config file. Aborting`;
export const notPortsentryMode = (): string => 'adminalert: ERROR: could not go into PortSentry mode. Shutting down.\n';
export const notDaemonMode = (): string => 'adminalert: ERROR: could not go into daemon mode. Shutting down.\n';

// Classic -tcp / -udp.
export const listening = (p: Proto, port: number): string =>
  `adminalert: Going into listen mode on ${p} port: ${port}\n`;
export const cannotOpenSocket = (p: Proto): string =>
  p === 'TCP'
    ? 'adminalert: ERROR: could not open TCP socket. Aborting.\n'
    : 'adminalert: ERROR: could not open UDP socket. Aborting\n';
export const cannotBind = (p: Proto, port: number): string =>
  `adminalert: ERROR: could not bind ${p} socket: ${port}. Attempting to continue\n`;
export const cannotBindAny = (p: Proto): string =>
  `adminalert: ERROR: could not bind ANY ${p} sockets. Shutting down.\n`;
export const acceptFailed = (port: number): string =>
  `attackalert: Possible stealth scan from unknown host to TCP port: ${port} (accept failed)`;
export const udpRecvFailed = (port: number): string =>
  `adminalert: ERROR: could not accept incoming socket for UDP port: ${port}\n`;
export const connectFrom = (p: Proto, host: string, ip: string, port: number): string =>
  `attackalert: Connect from host: ${host}/${ip} to ${p} port: ${port}`;
export const alreadyBlockedClassic = (ip: string): string => `attackalert: Host: ${ip} is already blocked. Ignoring`;
export const couldNotBlockClassic = (ip: string): string => `attackalert: ERROR: Could not block host ${ip} !!`;

// Stealth -stcp / -sudp and advanced -atcp / -audp.
export const stealthListening = (p: Proto, port: number): string =>
  `adminalert: Going into stealth listen mode on ${p} port: ${port}\n`;
export const socketInUse = (port: number): string =>
  `adminalert: ERROR: Socket ${port} is in use and will not be monitored. Attempting to continue\n`;
export const allSocketsInUse = (p: Proto): string =>
  `adminalert: ERROR: All supplied ${p} sockets are in use and will not be listened to. Shutting down.\n`;
export const cannotOpenRaw = (p: Proto): string => `adminalert: ERROR: could not open RAW ${p} socket. Aborting.\n`;
export const noAdvancedPorts = (p: Proto): string =>
  `adminalert: ERROR: Could not read ADVANCED_PORTS_${p} option from config file. Assuming 1024.`;
export const advancedMonitor = (n: number): string => `adminalert: Advanced mode will monitor first ${n} ports`;
export const advancedExclude = (port: number): string =>
  `adminalert: Advanced mode will manually exclude port: ${port} `;
export const advancedExcludeNone = (): string => 'adminalert: Advanced mode will manually exclude no ports';
export const advancedIgnored = (p: Proto, port: number): string =>
  `adminalert: Advanced Stealth scan detection mode activated. Ignored ${p} port: ${port}\n`;
export const tcpScanType = (f: TcpFlags): string => {
  if (!f.syn && !f.fin && !f.ack && !f.psh && !f.rst && !f.urg) return ' TCP NULL scan';
  if (f.fin && f.urg && f.psh) return 'TCP XMAS scan';
  if (f.fin && !f.syn && !f.ack && !f.psh && !f.rst && !f.urg) return 'TCP FIN scan';
  if (f.syn && !f.fin && !f.ack && !f.psh && !f.rst && !f.urg) return 'TCP SYN/Normal scan';
  return `Unknown Type: TCP Packet Flags: SYN: ${bit(f.syn)} FIN: ${bit(f.fin)} ACK: ${bit(f.ack)} PSH: ${bit(f.psh)} URG: ${bit(f.urg)} RST: ${bit(f.rst)}`;
};
export const tcpScanFrom = (f: TcpFlags, host: string, ip: string, port: number): string =>
  `attackalert: ${tcpScanType(f)} from host: ${host}/${ip} to TCP port: ${port}`;
export const udpScanFrom = (host: string, ip: string, port: number): string =>
  `attackalert: UDP scan from host: ${host}/${ip} to UDP port: ${port}`;
export const ipOptionsSet = (p: Proto, host: string, ip: string, port: number): string =>
  `attackalert: Packet from host: ${host}/${ip} to ${p} port: ${port} has IP options set (detection avoidance technique).`;
export const illegalHeaderLength = (p: Proto, ihl: number, ip: string): string =>
  `attackalert: Illegal IP header length detected in ${p} packet: ${ihl} from (possible) host: ${ip}\n`;
export const alreadyBlockedStealth = (host: string, ip: string): string =>
  `attackalert: Host: ${host}/${ip} is already blocked Ignoring`;
// -stcp has a space before "!!"; -atcp, -sudp and -audp do not.
export const couldNotBlockStealth = (host: string, ip: string, spaced: boolean): string =>
  `attackalert: ERROR: Could not block host ${host}/${ip}${spaced ? ' ' : ''}!!`;
export const cannotSmartVerify = (p: Proto): string =>
  `adminalert: ERROR: could not open ${p} socket to smart-verify.\n`;

// Common to every mode: ignore file, state engine, responses, files.
export const cannotOpenIgnore = (): string => 'attackalert: ERROR: cannot open ignore file. Blocking host anyway.\n';
export const invalidNetmask = (rawLine: string): string =>
  `adminalert: Invalid netmask in config file: ${rawLine}  Ignoring entry.\n`;
export const triggerTooLarge = (t: number): string[] => [
  `securityalert: WARNING: Trigger value ${t} is larger than state engine capacity of 50.\n`,
  'Adjust the value lower or recompile with a larger state engine value.\n',
  'securityalert: Blocking host anyway because of invalid trigger value',
];
export const ignoringResponse = (p: Proto): string =>
  `attackalert: Ignoring ${p} response per configuration file setting.`;
export const blockedWrappers = (ip: string, line: string): string =>
  `attackalert: Host ${ip} has been blocked via wrappers with string: "${line}"`;
export const blockedRoute = (ip: string, cmd: string): string =>
  `attackalert: Host ${ip} has been blocked via dropped route using command: "${cmd}"`;
export const externalCommand = (ip: string, cmd: string): string =>
  `attackalert: External command run for host: ${ip} using command: "${cmd}"`;
export const blockFailed = (how: 'exec' | 'system', ip: string): string =>
  `adminalert: ERROR: There was an error trying to block host (${how} fail) ${ip}`;
export const runFailed = (how: 'exec' | 'system', ip: string): string =>
  `adminalert: ERROR: There was an error trying to run command (${how} fail) ${ip}`;
export const noTargetVariable = (key: 'KILL_ROUTE' | 'KILL_HOSTS_DENY'): string =>
  `adminalert: No target variable specified in ${key} option. Skipping.\n`;
export const macroParseError = (macro: string, key: string): string =>
  `adminalert: Error trying to parse ${macro} Token for ${key}. Skipping.\n`;
export const cannotOpenHostsDeny = (file: string, ip: string): string[] => [
  `adminalert: cannot open hosts.deny file: ${file} for blocking.`,
  `securityalert: ERROR: There was an error trying to block host ${ip}`,
];
export const cannotOpenBlocked = (file: string): string => `adminalert: ERROR: Cannot open blocked file: ${file}.\n`;
export const cannotOpenHistory = (file: string): string => `adminalert: ERROR: Cannot open history file: ${file}.\n`;
export const blockedMissingForRead = (file: string): string =>
  `adminalert: ERROR: Cannot open blocked file: ${file} for reading. Will create.\n`;

// Ours only (no 1.2 counterpart): an IPv6 target with no KILL_ROUTE6, and an address of this host.
export const noRoute6 = (ip: string): string =>
  `adminalert: No KILL_ROUTE6 option for IPv6 host ${ip}. Skipping route.`;
export const localAddress = (ip: string): string =>
  `attackalert: Host: ${ip} is an address of this host. Not blocking.`;
export const gatewayAddress = (ip: string): string =>
  `attackalert: Host: ${ip} is a default gateway of this host. Not blocking.`;
// BLOCK_RATE_MAX (ours): the ceiling was reached, the queue emptied, a host found the queue full, shutdown.
export const blockRateReached = (max: number): string =>
  `adminalert: BLOCK_RATE_MAX of ${max} blocks per second reached: further blocks are queued in order.`;
export const blockQueueDrained = (queued: number, longestMs: number): string =>
  `adminalert: Block queue empty: ${queued} blocks waited, the longest ${(longestMs / 1000).toFixed(1)} s.`;
export const blockQueueFull = (ip: string, capacity: number): string =>
  `attackalert: ERROR: Block queue full (${capacity} hosts waiting): host ${ip} not queued; ` +
  'its next probe tries again.';
// The raw sensor's admission refused probes (ours): no detection line for them, but these two.
export const probesRefused = (max: number): string =>
  `adminalert: Probe backlog full (${max} waiting, or a few from one source): ` +
  'further probes get no line until it drains.';
export const probesRefusedTotal = (n: number, ms: number): string =>
  `adminalert: Probe backlog drained: ${n} probes got no line over ${(ms / 1000).toFixed(1)} s.`;
export const blockQueueLeft = (n: number): string =>
  `adminalert: Shutting down with ${n} queued blocks not done (BLOCK_RATE_MAX).`;

const pad2 = (n: number): string => String(n).padStart(2, '0');

// The blocked-file and history line; local time, as 1.2's localtime().
export const blockedLine = (at: Date, host: string, ip: string, port: number, p: Proto): string =>
  `${Math.floor(at.getTime() / 1000)} - ${pad2(at.getMonth() + 1)}/${pad2(at.getDate())}/${String(at.getFullYear()).padStart(4, '0')} ` +
  `${pad2(at.getHours())}:${pad2(at.getMinutes())}:${pad2(at.getSeconds())} Host: ${host}/${ip} Port: ${port} ${p} Blocked\n`;

// Per-mode texts for one alarm: the detection line(s), "already blocked" and "could not block".
export type DetectionFacts = { mode: DetectionMode; dstPort: number; flags?: TcpFlags; ipOptions?: boolean };
const isClassic = (m: DetectionMode): boolean => m === 'tcp' || m === 'udp';
const protoOf = (m: DetectionMode): Proto => (m.endsWith('tcp') ? 'TCP' : 'UDP');

export const detectionLines = (ev: DetectionFacts, host: string, ip: string): string[] => {
  const p = protoOf(ev.mode);
  if (isClassic(ev.mode)) return [connectFrom(p, host, ip, ev.dstPort)];
  const first =
    p === 'TCP' ? tcpScanFrom(ev.flags ?? NO_FLAGS, host, ip, ev.dstPort) : udpScanFrom(host, ip, ev.dstPort);
  return ev.ipOptions ? [first, ipOptionsSet(p, host, ip, ev.dstPort)] : [first];
};
export const alreadyBlockedLine = (mode: DetectionMode, host: string, ip: string): string =>
  isClassic(mode) ? alreadyBlockedClassic(ip) : alreadyBlockedStealth(host, ip);
export const couldNotBlockLine = (mode: DetectionMode, host: string, ip: string): string =>
  isClassic(mode) ? couldNotBlockClassic(ip) : couldNotBlockStealth(host, ip, mode === 'stcp');

const NO_FLAGS: TcpFlags = { syn: false, fin: false, ack: false, psh: false, rst: false, urg: false };

// SYSLOG_REMOTE (ours): lines stopped reaching the remote server, or reach it again (written locally only).
export const remoteSyslogTrouble = (text: string): string => `adminalert: ${text}`;

// METRICS (ours): the endpoint is up, or its address could not be bound (the daemon does not start).
export const metricsListening = (at: string): string => `adminalert: Metrics at http://${at}/metrics`;
export const metricsFailed = (why: string): string =>
  `adminalert: ERROR: could not open the METRICS endpoint: ${why}. Shutting down.`;
