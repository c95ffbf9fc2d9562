import { readFileSync } from 'node:fs';
import { splitCommandTemplate } from '../core/argv-template.js';
import { diag, type Diagnostic } from '../core/diagnostics.js';
import { parseSyslogAddress, type SyslogAddress } from '../core/syslog-remote.js';
import { parseMetricsAddress, type MetricsAddress } from '../core/metrics-address.js';
import { atoi, isCleanInt, retrieveToken, splitChunks, type Chunk } from './conf-scan.js';
import type { DetectionMode } from './event.js';
import * as L from './lines.js';

// A KILL_* command: the template text (for log lines) and its argv split once at load.
export type CommandTemplate = { text: string; argv: string[]; line: number };
export type PortList = { ports: number[]; line: number } | null;

export type PortsentryConf = {
  file: string;
  tcpPorts: PortList | 'no-quotes';
  udpPorts: PortList | 'no-quotes';
  advancedPortsTcp: number | null;
  advancedPortsUdp: number | null;
  advancedExcludeTcp: PortList;
  advancedExcludeUdp: PortList;
  ignoreFile: string | null;
  historyFile: string | null;
  blockedFile: string | null;
  resolveHost: boolean;
  blockTcp: number;
  blockUdp: number;
  killRoute: CommandTemplate | null;
  killRoute6: CommandTemplate | null;
  killHostsDeny: string | null;
  killRunCmd: CommandTemplate | null;
  killRunCmdFirst: boolean;
  // null: key absent (1.2 logs a message and uses 0).
  scanTrigger: number | null;
  portBanner: string | null;
  // BLOCK_RATE_MAX (ours): blocks started per second at most, later ones queued; 0 (absent) = off, as 1.2.
  blockRateMax: number;
  // SYSLOG_REMOTE (ours): every syslog line also sent to this server; null (absent or "") = off, as 1.2.
  syslogRemote: SyslogAddress | null;
  // METRICS (ours): the Prometheus endpoint, e.g. "127.0.0.1:9102" (docs/metrics.md); null (absent or "") = off.
  // METRICS_TCP, METRICS_UDP, ... (one per mode) take precedence for that mode: each process needs its own port.
  metrics: MetricsAddress | null;
  metricsByMode: Partial<Record<DetectionMode, MetricsAddress>>;
};

// What loading produced besides the values: syslog lines 1.2 would write, warnings for silent misreads, and
// errors that refuse the file (templates needing a shell).
export type ConfLoad = { conf: PortsentryConf; syslog: string[]; warnings: Diagnostic[]; errors: Diagnostic[] };

const MACROS = new Set(['TARGET', 'PORT', 'MODE']);
const MAXSOCKS = 64;
export const BLOCK_RATE_CAP = 1_000_000;

// 1.2's port-list reading (strtok on ",", atoi, first 64 items), with a warning for every silent misread.
export const parsePortList = (value: string, file: string, line: number, key: string, warn: Diagnostic[]): number[] => {
  const items = value.split(',').filter((s) => s.length > 0);
  if (items.length > MAXSOCKS) {
    warn.push(
      diag(
        file,
        line,
        `${items.length} ports listed; PortSentry 1.2 reads only the first ${MAXSOCKS}, the rest (from ${items[MAXSOCKS]?.trim()}) are dropped`,
        key,
      ),
    );
  }
  return items.slice(0, MAXSOCKS).map((item) => {
    const n = atoi(item);
    if (!isCleanInt(item))
      warn.push(
        diag(file, line, `"${item}" is not a port number; read as ${n}, as 1.2 does (no ranges, no names)`, key),
      );
    else if (n < 1 || n > 65535) warn.push(diag(file, line, `port ${n} is outside 1-65535; it cannot be bound`, key));
    return n;
  });
};

export const parseConf = (text: string, file: string): ConfLoad => {
  const chunks: Chunk[] = splitChunks(text);
  const syslog: string[] = [];
  const warnings: Diagnostic[] = [];
  const errors: Diagnostic[] = [];
  // Keys read at InitConfig log their "Quotes missing" line now; mode keys (ports, banner) are logged by the mode.
  const get = (key: string, quiet = false): { value: string; line: number } | null => {
    const t = retrieveToken(chunks, key);
    if (t.kind === 'no-quotes') {
      if (!quiet) syslog.push(L.quotesMissing(key));
      warnings.push(diag(file, t.line, 'quotes missing: the option is skipped, as 1.2 does', key));
      return null;
    }
    return t.kind === 'value' ? { value: t.value, line: t.line } : null;
  };
  const num = (key: string, quiet = false): number | null => {
    const t = get(key, quiet);
    if (!t) return null;
    const n = atoi(t.value);
    if (!isCleanInt(t.value))
      warnings.push(diag(file, t.line, `"${t.value}" is not a number; read as ${n}, as 1.2 does`, key));
    return n;
  };
  const ports = (key: string): PortList | 'no-quotes' => {
    if (retrieveToken(chunks, key).kind === 'no-quotes') {
      get(key, true);
      return 'no-quotes';
    }
    const t = get(key, true);
    return t ? { ports: parsePortList(t.value, file, t.line, key, warnings), line: t.line } : null;
  };
  const command = (key: string, quiet = false): CommandTemplate | null => {
    const t = get(key, quiet);
    if (!t || t.value === '') return null;
    const split = splitCommandTemplate(t.value, (m) => MACROS.has(m));
    if (!split.ok) {
      errors.push(diag(file, t.line, split.message, key));
      return null;
    }
    return { text: t.value, argv: split.argv, line: t.line };
  };
  // 1.2's InitConfig order, so its syslog lines come out in the same order.
  const blockTcp = num('BLOCK_TCP') ?? 0;
  const blockUdp = num('BLOCK_UDP') ?? 0;
  const resolveHost = (num('RESOLVE_HOST') ?? 0) !== 0;
  const scanTrigger = num('SCAN_TRIGGER');
  if (scanTrigger === null) syslog.push(L.noScanTrigger());
  const killRoute = command('KILL_ROUTE');
  const killHostsDeny = get('KILL_HOSTS_DENY')?.value || null;
  const killRunCmd = command('KILL_RUN_CMD');
  const killRunCmdFirst = killRunCmd ? (num('KILL_RUN_CMD_FIRST') ?? 0) !== 0 : false;
  const blockedFile = get('BLOCKED_FILE')?.value ?? null;
  const historyFile = get('HISTORY_FILE')?.value ?? null;
  const ignoreFile = get('IGNORE_FILE')?.value ?? null;
  const conf: PortsentryConf = {
    file,
    blockTcp,
    blockUdp,
    resolveHost,
    scanTrigger,
    killRoute,
    killHostsDeny,
    killRunCmd,
    killRunCmdFirst,
    blockedFile,
    historyFile,
    ignoreFile,
    killRoute6: command('KILL_ROUTE6', true),
    tcpPorts: ports('TCP_PORTS'),
    udpPorts: ports('UDP_PORTS'),
    advancedPortsTcp: num('ADVANCED_PORTS_TCP', true),
    advancedPortsUdp: num('ADVANCED_PORTS_UDP', true),
    advancedExcludeTcp: nullIfQuoteless(ports('ADVANCED_EXCLUDE_TCP')),
    advancedExcludeUdp: nullIfQuoteless(ports('ADVANCED_EXCLUDE_UDP')),
    portBanner: get('PORT_BANNER', true)?.value ?? null,
    blockRateMax: blockRate(num('BLOCK_RATE_MAX', true), retrieveToken(chunks, 'BLOCK_RATE_MAX'), file, warnings),
    syslogRemote: syslogRemote(get('SYSLOG_REMOTE', true), file, errors),
    metrics: metricsAt(get('METRICS', true), 'METRICS', file, errors),
    metricsByMode: metricsByMode((key) => metricsAt(get(key, true), key, file, errors)),
  };
  return { conf, syslog, warnings, errors };
};

// Our key, unknown to 1.2 (which never logs about it): 0 or absent is off; a negative number is read as off and a
// number past the cap as the cap, each with a file:line warning.
const blockRate = (n: number | null, t: ReturnType<typeof retrieveToken>, file: string, warn: Diagnostic[]): number => {
  if (n === null) return 0;
  const line = t.kind === 'value' ? t.line : 0;
  if (n < 0) {
    warn.push(diag(file, line, `${n} is negative; read as 0 (no ceiling)`, 'BLOCK_RATE_MAX'));
    return 0;
  }
  if (n > BLOCK_RATE_CAP) {
    warn.push(diag(file, line, `${n} is above ${BLOCK_RATE_CAP}; read as ${BLOCK_RATE_CAP}`, 'BLOCK_RATE_MAX'));
    return BLOCK_RATE_CAP;
  }
  return n;
};

// Our key: a bad address refuses the file (file:line), as a KILL_* template needing a shell does.
const syslogRemote = (t: { value: string; line: number } | null, file: string, errors: Diagnostic[]) => {
  if (!t || t.value.trim() === '') return null;
  const a = parseSyslogAddress(t.value);
  if (a.ok) return a.value;
  errors.push(diag(file, t.line, a.message, 'SYSLOG_REMOTE'));
  return null;
};

// Our keys, as SYSLOG_REMOTE: a bad address refuses the file (file:line).
const metricsAt = (t: { value: string; line: number } | null, key: string, file: string, errors: Diagnostic[]) => {
  if (!t || t.value.trim() === '') return null;
  const a = parseMetricsAddress(t.value);
  if (a.ok) return a.value;
  errors.push(diag(file, t.line, a.message, key));
  return null;
};
const MODES_WITH_METRICS: readonly DetectionMode[] = ['tcp', 'udp', 'stcp', 'sudp', 'atcp', 'audp'];
export const METRICS_MODE_KEYS: readonly string[] = MODES_WITH_METRICS.map((m) => `METRICS_${m.toUpperCase()}`);
const metricsByMode = (
  read: (key: string) => MetricsAddress | null,
): Partial<Record<DetectionMode, MetricsAddress>> => {
  const out: Partial<Record<DetectionMode, MetricsAddress>> = {};
  for (const m of MODES_WITH_METRICS) {
    const a = read(`METRICS_${m.toUpperCase()}`);
    if (a) out[m] = a;
  }
  return out;
};

const nullIfQuoteless = (p: PortList | 'no-quotes'): PortList => (p === 'no-quotes' ? null : p);

export type ConfRead = { ok: true; text: string } | { ok: false; reason: string };

// Read the file as bytes (latin1 keeps every byte as one char, as C sees them).
export const readConfText = (file: string): ConfRead => {
  try {
    return { ok: true, text: readFileSync(file).toString('latin1') };
  } catch (e) {
    return { ok: false, reason: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
};
