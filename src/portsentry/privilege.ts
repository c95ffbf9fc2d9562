import { formatDiagnostic, diag } from '../core/diagnostics.js';
import { parseConf, readConfText } from './conf.js';
import type { DetectionMode } from './event.js';
import type { ModeEntry } from './modes.js';

export type Privilege = { ok: true } | { ok: false; hint: string | null };

export const isRoot = (): boolean => (process.geteuid?.() ?? 0) === 0 || (process.getuid?.() ?? 0) === 0;

// 1.2 refuses anyone but root. We also let a normal user run a port mode whose ports are all >= 1024 (what
// `npm start` does); everything else keeps 1.2's refusal, with a hint naming the file:line that needs root.
export const checkPrivilege = (config: string, mode: DetectionMode | null, entry: ModeEntry | undefined): Privilege => {
  if (isRoot()) return { ok: true };
  if (!mode || !entry) return { ok: false, hint: null };
  if (entry.privileged)
    return {
      ok: false,
      hint: `mode -${mode} opens raw sockets, which needs root: run it as root (sudo portsentry -${mode})`,
    };
  const read = readConfText(config);
  if (!read.ok)
    return {
      ok: false,
      hint: `${config}: cannot read the config file (${read.reason}); as a normal user only a readable config with ports >= 1024 can run`,
    };
  const { conf } = parseConf(read.text, config);
  const list = entry.proto === 'tcp' ? conf.tcpPorts : conf.udpPorts;
  if (list === null || list === 'no-quotes') return { ok: true };
  const low = list.ports.find((p) => p >= 0 && p < 1024);
  if (low === undefined) return { ok: true };
  const key = entry.proto === 'tcp' ? 'TCP_PORTS' : 'UDP_PORTS';
  return {
    ok: false,
    hint: formatDiagnostic(
      diag(
        config,
        list.line,
        `port ${low} is below 1024: binding it needs root (run as root, or list only ports >= 1024)`,
        key,
      ),
    ),
  };
};
