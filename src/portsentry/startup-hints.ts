import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';

// What the listener says on stderr when it cannot start (or starts without part of its work): one line that names
// the path and says what to do. PortSentry 1.2's own console and syslog lines are written as before, beside it.

// The exit codes, documented in docs/portsentry.md (1.2's 255 is kept where 1.2 exits with it).
export const PS_EXIT = { ok: 0, notStarted: 1, config: 78, refused: 255 } as const;

const errno = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);

// Why a file cannot be created in its folder, with what to do; null when it can (as far as we can tell).
export const explainUnwritable = (file: string, key: string, conf: string): string | null => {
  const folder = dirname(file);
  let st;
  try {
    st = statSync(folder);
  } catch (e) {
    const code = errno(e);
    return code === 'ENOENT'
      ? `the folder ${folder} does not exist: create it (mkdir -p ${folder}) or set ${key} in ${conf} elsewhere`
      : `cannot reach the folder ${folder} (${code}): run as root, or set ${key} in ${conf} elsewhere`;
  }
  if (!st.isDirectory()) return `${folder} is not a folder: set ${key} in ${conf} to a path in a folder`;
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch {
    const uid = process.getuid?.() ?? '?';
    return `the folder ${folder} is not writable by uid ${uid}: run as root, or set ${key} in ${conf} elsewhere`;
  }
  return null;
};

export const explainUnreadableConf = (file: string, code: string): string => {
  const what = `${file}: cannot read the config file (${code})`;
  if (code === 'ENOENT')
    return (
      `${what}: install one there (the package's config/portsentry.conf is an example), ` +
      'or name yours with --config FILE'
    );
  if (code === 'EACCES' || code === 'EPERM')
    return `${what}: run as root, or make it readable by uid ${process.getuid?.() ?? '?'}`;
  if (code === 'EISDIR') return `${what}: it is a folder; name the config file itself with --config FILE`;
  return `${what}: check the file, or name another with --config FILE`;
};

// The ports 1.2's "could not bind TCP socket: N" lines named, by protocol: the sensor writes those lines only.
const CANNOT_BIND = /could not bind (TCP|UDP) socket: (-?\d+)\./;
export class BindFailures {
  #ports: { proto: string; port: number }[] = [];
  see(line: string): void {
    const m = CANNOT_BIND.exec(line);
    if (m) this.#ports.push({ proto: m[1] as string, port: Number(m[2]) });
  }
  // A warning when some ports were not bound; the reason when none was (started: whether the sensor started).
  explain(conf: string, started: boolean): string | null {
    if (this.#ports.length === 0) return started ? null : `could not go into PortSentry mode (see syslog)`;
    const proto = this.#ports[0]?.proto ?? 'TCP';
    const list = this.#ports.map((p) => p.port).join(', ');
    const key = `${proto}_PORTS`;
    const [ports, them] = this.#ports.length > 1 ? ['ports', 'them'] : ['port', 'it'];
    if (started)
      return (
        `warning: ${proto} ${ports} ${list} could not be bound (in use by another program, or not a port): ` +
        `not watched; free ${them}, or drop ${them} from ${key} in ${conf}`
      );
    return (
      `none of the ${proto} ports in ${key} of ${conf} could be bound ` +
      `(${list}: in use by other programs, or not ports): free them, or list others`
    );
  }
}
