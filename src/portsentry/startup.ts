import { formatDiagnostic, EX_CONFIG } from '../core/diagnostics.js';
import { truncateBlocked } from './blocked.js';
import { parseConf, readConfText, type PortsentryConf } from './conf.js';
import type { DetectionMode } from './event.js';
import * as L from './lines.js';
import { explainUnreadableConf, explainUnwritable } from './startup-hints.js';

export type Prepared =
  | { ok: true; conf: PortsentryConf; blockedFile: string; historyFile: string; ignoreFile: string }
  | { ok: false; code: number };
export type StartupIo = { log: (line: string) => void; out: (text: string) => void; err: (text: string) => void };

const OTHER_PORT_KEYS: Record<'tcp' | 'udp', string[]> = {
  tcp: ['UDP_PORTS', 'ADVANCED_EXCLUDE_UDP'],
  udp: ['TCP_PORTS', 'ADVANCED_EXCLUDE_TCP'],
};

// 1.2's CheckConfig + InitConfig: config readable, generic keys read (in 1.2's order, same syslog lines), the
// blocked file truncated. `quiet` (the detached child) re-reads without logging or truncating again.
export const prepare = async (file: string, mode: DetectionMode, io: StartupIo, quiet: boolean): Promise<Prepared> => {
  const read = readConfText(file);
  if (!read.ok) {
    io.log(L.cannotOpenConfig(file));
    io.log(L.configMissing());
    io.out(L.CONSOLE_CONFIG_MISSING);
    io.err(`portsentry: ${explainUnreadableConf(file, read.reason)}\n`);
    return { ok: false, code: 255 };
  }
  const { conf, syslog, warnings, errors } = parseConf(read.text, file);
  const proto = mode.endsWith('tcp') ? 'tcp' : 'udp';
  if (!quiet) {
    syslog.forEach(io.log);
    for (const w of warnings)
      if (!OTHER_PORT_KEYS[proto].includes(w.path)) io.err(`portsentry: warning: ${formatDiagnostic(w)}\n`);
  }
  if (errors.length > 0) {
    for (const e of errors) io.err(`portsentry: ${formatDiagnostic(e)}\n`);
    io.log(L.configCorrupt());
    io.out(L.CONSOLE_CONFIG_CORRUPT);
    return { ok: false, code: EX_CONFIG };
  }
  const corrupt = (line: string, hint: string): Prepared => {
    io.log(line);
    io.log(L.configCorrupt());
    io.out(L.CONSOLE_CONFIG_CORRUPT);
    io.err(`portsentry: ${file}: ${hint}\n`);
    return { ok: false, code: 255 };
  };
  if (conf.blockedFile === null)
    return corrupt(L.cannotRetrieve('BLOCKED_FILE'), 'BLOCKED_FILE is missing (write BLOCKED_FILE="/path")');
  const blockedFile = `${conf.blockedFile}.${mode}`;
  if (!quiet && !(await truncateBlocked(blockedFile))) {
    const why = explainUnwritable(blockedFile, 'BLOCKED_FILE', file) ?? 'see syslog';
    return corrupt(L.cannotTruncateBlocked(blockedFile), `cannot create or truncate ${blockedFile}: ${why}`);
  }
  if (conf.historyFile === null)
    return corrupt(L.cannotRetrieve('HISTORY_FILE'), 'HISTORY_FILE is missing (write HISTORY_FILE="/path")');
  if (conf.ignoreFile === null)
    return corrupt(L.cannotRetrieve('IGNORE_FILE'), 'IGNORE_FILE is missing (write IGNORE_FILE="/path")');
  // 1.2 starts without a folder for its history and loses those lines later: said now, where it can be fixed.
  const history = quiet ? null : explainUnwritable(conf.historyFile, 'HISTORY_FILE', file);
  if (history) io.err(`portsentry: warning: HISTORY_FILE ${conf.historyFile}: ${history}\n`);
  return { ok: true, conf, blockedFile, historyFile: conf.historyFile, ignoreFile: conf.ignoreFile };
};
