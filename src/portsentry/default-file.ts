import { diag, formatDiagnostic } from '../core/diagnostics.js';
import type { DetectionMode } from './event.js';

// Debian's /etc/default/portsentry: TCP_MODE and UDP_MODE, as its /etc/init.d/portsentry reads them (`. $CONFIG`,
// then one daemon per mode that is set). `portsentry --mode-from FILE tcp|udp` (one systemd unit per protocol)
// runs the mode this file names for that protocol, with the init script's outcomes:
//   the file missing            -> nothing started, exit 0     (`test -f $CONFIG || exit 0`)
//   both modes empty            -> nothing started, exit 0     ("Not starting anti portscan daemon (no modes in ...)")
//   this protocol's mode empty  -> nothing started, exit 0     (the `"")` case: do nothing)
//   a mode not of its protocol  -> exit 1                      ("foo is not a valid mode.")
// The file is a shell fragment; what is read of it is the assignments (`NAME=value`, `NAME="value"`,
// `NAME='value'`, `export NAME=...`), the last one winning as in sh. Anything sh would expand ($, `) is refused
// with its file:line rather than read differently from the shell.
export type ModeProto = 'tcp' | 'udp';
export type ModeChoice =
  { kind: 'run'; mode: DetectionMode } | { kind: 'skip'; note: string } | { kind: 'refuse'; message: string };

export const MODE_VARS: Record<ModeProto, string> = { tcp: 'TCP_MODE', udp: 'UDP_MODE' };
const VALID: Record<ModeProto, readonly DetectionMode[]> = {
  tcp: ['tcp', 'stcp', 'atcp'],
  udp: ['udp', 'sudp', 'audp'],
};

type Assigned = { value: string; line: number };
type Assignments = { ok: true; vars: Map<string, Assigned> } | { ok: false; message: string };

const ASSIGN = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

// One value: quoted parts and bare words joined, up to the first unquoted blank or comment. null: sh would
// expand something (or the quotes do not close), which this reader does not do.
const readValue = (raw: string): string | null => {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const c = raw[i] as string;
    if (c === ' ' || c === '\t' || c === ';') break;
    if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      if (end < 0) return null;
      out += raw.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= raw.length) return null;
        const d = raw[i] as string;
        if (d === '"') break;
        if (d === '$' || d === '`') return null;
        if (d === '\\' && i + 1 < raw.length && '"\\$`'.includes(raw[i + 1] as string)) {
          out += raw[i + 1] as string;
          i += 2;
        } else {
          out += d;
          i++;
        }
      }
      i++;
    } else if ('$`\\(|&<>'.includes(c)) {
      return null;
    } else {
      out += c;
      i++;
    }
  }
  const rest = raw.slice(i).trim();
  if (rest !== '' && !rest.startsWith('#') && rest !== ';') return null;
  return out;
};

export const readAssignments = (text: string, file: string): Assignments => {
  const vars = new Map<string, Assigned>();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = ASSIGN.exec(line);
    if (!m) continue; // not an assignment: sh would run it; the modes cannot come from it
    const value = readValue(m[2] as string);
    const name = m[1] as string;
    if (value === null) {
      if (name !== MODE_VARS.tcp && name !== MODE_VARS.udp) continue;
      const why = 'only a plain or quoted value is read here (no $, `, \\ or unclosed quotes)';
      return { ok: false, message: formatDiagnostic(diag(file, n + 1, why, name)) };
    }
    vars.set(name, { value, line: n + 1 });
  }
  return { ok: true, vars };
};

// text null: the file does not exist.
export const modeFromDefault = (text: string | null, file: string, proto: ModeProto): ModeChoice => {
  if (text === null) return { kind: 'skip', note: `${file}: no such file; no ${proto} listener started` };
  const read = readAssignments(text, file);
  if (!read.ok) return { kind: 'refuse', message: read.message };
  const tcp = read.vars.get(MODE_VARS.tcp)?.value ?? '';
  const udp = read.vars.get(MODE_VARS.udp)?.value ?? '';
  if (tcp === '' && udp === '')
    return { kind: 'skip', note: `Not starting anti portscan daemon (no modes in ${file}).` };
  const value = proto === 'tcp' ? tcp : udp;
  if (value === '')
    return { kind: 'skip', note: `${file}: ${MODE_VARS[proto]} is empty; no ${proto} listener started` };
  const mode = VALID[proto].find((m) => m === value);
  return mode ? { kind: 'run', mode } : { kind: 'refuse', message: `${value} is not a valid mode.` };
};
