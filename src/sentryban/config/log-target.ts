import { isAbsolute, resolve } from 'node:path';
import { isSyslogAddressText, parseSyslogAddress, type SyslogAddress } from '../../core/syslog-remote.js';
import type { Fields } from './fields.js';
import type { YNode } from './yaml-tree.js';

// Where sentryban's log lines go, in fail2ban's words: `logtarget` is a file, SYSLOG, STDERR or STDOUT, or a
// list of them. Default: the state folder's sentryban.log plus SYSLOG. Lines reach syslog from `sysloglevel` up
// (default WARNING: every failure; NOTICE adds Ban/Unban). `syslogsocket` is /dev/log unless set. Ours: a remote
// syslog server is one more target, `udp://ADDRESS[:PORT]` or `tcp://...` (core/syslog-remote.ts), at the same
// sysloglevel as SYSLOG.
export type LogLevel = 'ERROR' | 'WARNING' | 'NOTICE' | 'INFO';
export const LOG_LEVELS: readonly LogLevel[] = ['ERROR', 'WARNING', 'NOTICE', 'INFO'];
export type LogTargets = {
  files: string[];
  stderr: boolean;
  stdout: boolean;
  syslog: boolean;
  syslogLevel: LogLevel;
  syslogSocket: string;
  remote: SyslogAddress[];
};

export const LOG_KEYS = ['logtarget', 'sysloglevel', 'syslogsocket'] as const;
// The sentryban.yaml keys of the faults settings: where lines go, and the periodic check of every action.
export const FAULTS_KEYS = [...LOG_KEYS, 'checkinterval'] as const;

export const readLogTargets = (
  f: Fields,
  m: Map<string, YNode>,
  stateDir: string,
  logfile: string | null,
): LogTargets => {
  const out: LogTargets = {
    files: [],
    stderr: false,
    stdout: false,
    syslog: false,
    syslogLevel: 'WARNING',
    syslogSocket: '/dev/log',
    remote: [],
  };
  const node = m.get('logtarget');
  if (!node) {
    if (logfile) out.files.push(logfile);
    out.syslog = true;
  } else {
    if (m.get('logfile')) f.error(node.pos, 'logtarget', 'give either logfile or logtarget, not both');
    for (const it of f.list(node, 'logtarget')) {
      const u = it.text.toUpperCase();
      if (u === 'SYSLOG') out.syslog = true;
      else if (u === 'STDERR') out.stderr = true;
      else if (u === 'STDOUT') out.stdout = true;
      else if (u === 'NONE') continue;
      else if (isSyslogAddressText(it.text)) {
        const a = parseSyslogAddress(it.text);
        if (a.ok) out.remote.push(a.value);
        else f.error(it.pos, 'logtarget', a.message);
      } else out.files.push(isAbsolute(it.text) ? it.text : resolve(stateDir, it.text));
    }
  }
  const lvl = m.get('sysloglevel');
  if (lvl) {
    const t = (f.scalar(lvl, 'sysloglevel') ?? '').toUpperCase();
    if ((LOG_LEVELS as readonly string[]).includes(t)) out.syslogLevel = t as LogLevel;
    else f.error(lvl.pos, 'sysloglevel', `expected one of ${LOG_LEVELS.join(', ')}, got "${t}"`);
  }
  const sock = m.get('syslogsocket');
  if (sock) {
    const t = f.scalar(sock, 'syslogsocket') ?? '';
    out.syslogSocket = t === 'auto' || t === '' ? '/dev/log' : t;
  }
  return out;
};
