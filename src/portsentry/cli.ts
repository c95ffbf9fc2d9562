import { resolve } from 'node:path';
import { ALL_MODE_FLAGS } from './modes.js';
import type { DetectionMode } from './event.js';
import type { ModeProto } from './default-file.js';

export type CliOptions = {
  mode: string | null;
  config: string;
  hostsDeny: string;
  foreground: boolean;
  stdout: boolean;
  daemonChild: boolean;
  modeFrom: { file: string; proto: ModeProto } | null; // --mode-from: the mode is read from that file
};
export type CliParse = { kind: 'run'; opts: CliOptions } | { kind: 'help' } | { kind: 'usage' };

export const DEFAULT_CONFIG = '/etc/portsentry/portsentry.conf';
export const DEFAULT_HOSTS_DENY = '/etc/hosts.deny';

export const OPTIONS_HELP = `Options (sentrytools additions to PortSentry 1.2's single mode flag):
  --config FILE      portsentry.conf to read (default ${DEFAULT_CONFIG})
  --hosts-deny FILE  file KILL_HOSTS_DENY appends to (default ${DEFAULT_HOSTS_DENY})
  --foreground       do not detach (for systemd); the exit code tells how it ended
  --mode-from FILE tcp|udp
                     instead of a mode flag: run the TCP_MODE (or UDP_MODE) that FILE, a Debian
                     /etc/default/portsentry, names; nothing started (exit 0) when it is empty, as Debian's
                     init script (packaging/systemd/portsentry@.service runs one per protocol)
  --stdout           also print every log line on stdout
  --help             this text
`;

// 1.2 takes exactly one argument, the mode (or --mode-from instead). Our options may sit anywhere; a bad option
// gives 1.2's usage.
export const parseCli = (argv: readonly string[]): CliParse => {
  const opts: CliOptions = {
    mode: null,
    config: DEFAULT_CONFIG,
    hostsDeny: DEFAULT_HOSTS_DENY,
    foreground: false,
    stdout: false,
    daemonChild: false,
    modeFrom: null,
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string | undefined => argv[++i];
    if (a === '--help' || a === '-h') return { kind: 'help' };
    if (a === '--foreground') opts.foreground = true;
    else if (a === '--stdout') opts.stdout = true;
    else if (a === '--daemon-child') opts.daemonChild = true;
    else if (a === '--mode-from') {
      const file = value();
      const proto = value();
      if (!file || (proto !== 'tcp' && proto !== 'udp')) return { kind: 'usage' };
      opts.modeFrom = { file: resolve(file), proto };
    } else if (a === '--config' || a === '--hosts-deny') {
      const v = value();
      if (v === undefined || v === '') return { kind: 'usage' };
      if (a === '--config') opts.config = resolve(v);
      else opts.hostsDeny = resolve(v);
    } else if (a.startsWith('--')) return { kind: 'usage' };
    else positional.push(a);
  }
  if (opts.modeFrom) return positional.length === 0 ? { kind: 'run', opts } : { kind: 'usage' };
  if (positional.length !== 1) return { kind: 'usage' };
  opts.mode = positional[0] as string;
  return { kind: 'run', opts };
};

export const modeOf = (flag: string | null): DetectionMode | null => {
  const m = flag?.startsWith('-') ? flag.slice(1) : null;
  return m && (ALL_MODE_FLAGS as readonly string[]).includes(m) ? (m as DetectionMode) : null;
};
