import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { all, one, words, type Unit } from './unit-file.js';

// The sandbox a [Service] section asks systemd for, rebuilt from the unit's own keys with tools that run
// without systemd as PID 1: `unshare` (mount and UTS namespaces), mount(8) inside them (read-only remounts,
// bind mounts, tmpfs, a private /dev, a procfs with hidepid), and `setpriv` (no_new_privs, the capability
// bounding, inheritable and ambient sets). A key that can be rebuilt is, a key that needs seccomp or cgroups is
// listed as not enforced, and a key this file does not know is an error: the test follows the unit.
//
// Paths the unit names under /etc and /var are looked up under `root` (a folder standing in for /, so that
// the test writes nothing in the machine's /etc or /var/lib); other paths (/run/xtables.lock) are used as they are.
export type Sandbox = {
  argv: string[]; // prefix the daemon's argv with this
  at: (p: string) => string; // a path of the unit, inside the stand-in root
  enforced: string[];
  notEnforced: string[];
};

// Set up in order, inside a fresh mount namespace; then `exec "$@"` (the setpriv line). A constant script:
// every path reaches it as an argument.
const SCRIPT = `set -e
while [ "$1" != -- ]; do
  arg=\${1#*:}
  case "$1" in
  dev:*)
    stage=\${arg%%:*}; log=\${arg#*:}
    mkdir -p "$stage"; mount -t tmpfs -o mode=0755,nosuid,noexec tmpfs "$stage"
    for n in null zero full random urandom tty; do touch "$stage/$n"; mount --bind "/dev/$n" "$stage/$n"; done
    mkdir "$stage/pts" "$stage/shm"; ln -s /proc/self/fd "$stage/fd"
    touch "$stage/log"; mount --bind "$log" "$stage/log"
    mount --move "$stage" /dev ;;
  ro-all)
    while read -r _ _ _ _ mp _; do
      case "$mp" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*) ;; *) mount -o remount,bind,ro "$mp" ;; esac
    done < /proc/self/mountinfo ;;
  tmpfs:*) mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$arg" ;;
  hide:*) if [ -e "$arg" ]; then mount -t tmpfs -o ro,mode=000 tmpfs "$arg"; fi ;;
  rw:*) mount --bind "$arg" "$arg"; mount -o remount,bind,rw "$arg" ;;
  rw-opt:*) if [ -e "$arg" ]; then mount --bind "$arg" "$arg"; mount -o remount,bind,rw "$arg"; fi ;;
  ro:*) mount --bind "$arg" "$arg"; mount -o remount,bind,ro "$arg" ;;
  null:*) mount --bind /dev/null "$arg" ;;
  proc:*) mount -t proc -o "hidepid=$arg" proc /proc ;;
  umask:*) umask "$arg" ;;
  *) echo "unit-sandbox: unknown step $1" >&2; exit 1 ;;
  esac
  shift
done
shift
exec "$@"`;

// Keys of how the service runs, not of its sandbox: the test runs the Exec lines itself.
const LIFECYCLE = [
  'Type',
  'NotifyAccess',
  'ExecStart',
  'ExecStartPre',
  'ExecReload',
  'Restart',
  'RestartSec',
  'TimeoutStopSec',
];
// What each sandbox key becomes here. `true`: rebuilt below; a string: why it cannot be.
const KNOWN: Record<string, true | string> = {
  NoNewPrivileges: true,
  ProtectSystem: true,
  PrivateMounts: true,
  ReadWritePaths: true,
  StateDirectory: true,
  StateDirectoryMode: true,
  ProtectHome: true,
  PrivateTmp: true,
  PrivateDevices: true,
  ProtectProc: true,
  ProtectKernelTunables: true,
  ProtectControlGroups: true,
  ProtectKernelLogs: true,
  ProtectHostname: true,
  CapabilityBoundingSet: true,
  AmbientCapabilities: true,
  UMask: true,
  SystemCallFilter: 'seccomp',
  SystemCallArchitectures: 'seccomp',
  SystemCallErrorNumber: 'seccomp',
  RestrictAddressFamilies: 'seccomp',
  RestrictNamespaces: 'seccomp',
  RestrictRealtime: 'seccomp',
  RestrictSUIDSGID: 'seccomp',
  LockPersonality: 'seccomp',
  ProtectClock: 'seccomp and the device cgroup',
  ProtectKernelModules: 'seccomp (the bounding set drops CAP_SYS_MODULE, which is enforced)',
  DevicePolicy: 'the device cgroup',
  KeyringMode: 'a session keyring of its own (keyctl)',
  RemoveIPC: 'cleanup at stop, for a non-root user only',
};

const caps = (list: string[]): string =>
  ['-all', ...list.map((c) => `+${c.toLowerCase().replace(/^cap_/, '')}`)].join(',');

export const underRoot =
  (root: string) =>
  (p: string): string =>
    /^\/(etc|var)(\/|$)/.test(p) ? join(root, p) : p;

export const sandboxFor = (u: Unit, o: { root: string; devLog: string }): Sandbox => {
  const S = 'Service';
  const enforced: string[] = [];
  const notEnforced: string[] = [];
  for (const [k] of u.sections.get(S) ?? []) {
    if (LIFECYCLE.includes(k)) continue;
    const how = KNOWN[k];
    if (how === undefined) throw new Error(`${u.path}: [Service] ${k}= is not mapped in test/helpers/unit-sandbox.ts`);
    const list = how === true ? enforced : notEnforced;
    const entry = how === true ? k : `${k} (${how})`;
    if (!list.includes(entry)) list.push(entry);
  }
  const yes = (k: string): boolean => ['yes', 'true', '1', 'on'].includes(one(u, S, k) ?? '');
  const at = underRoot(o.root);
  const steps: string[] = [];
  if (yes('PrivateDevices')) steps.push(`dev:${join(o.root, '.dev')}:${o.devLog}`);
  const protect = one(u, S, 'ProtectSystem');
  if (protect !== null && protect !== 'strict') throw new Error(`ProtectSystem=${protect}: only strict is rebuilt`);
  if (protect === 'strict') steps.push('ro-all');
  if (yes('PrivateTmp')) steps.push('tmpfs:/tmp', 'tmpfs:/var/tmp');
  if (yes('ProtectHome')) steps.push('hide:/home', 'hide:/root', 'hide:/run/user');
  const mode = parseInt(one(u, S, 'StateDirectoryMode') ?? '0755', 8);
  for (const d of words(u, S, 'StateDirectory')) {
    const p = at(join('/var/lib', d));
    mkdirSync(p, { recursive: true }); // systemd makes them, owned by the unit's user, before the start
    chmodSync(p, mode);
    steps.push(`rw:${p}`);
  }
  // A missing path fails the start (as systemd's), unless it is marked optional with `-`.
  for (const w of words(u, S, 'ReadWritePaths'))
    steps.push(w.startsWith('-') ? `rw-opt:${at(w.slice(1))}` : `rw:${at(w)}`);
  const proc = one(u, S, 'ProtectProc');
  if (proc && proc !== 'default') steps.push(`proc:${proc}`);
  if (yes('ProtectKernelTunables')) steps.push('ro:/proc/sys', 'ro:/sys');
  else if (yes('ProtectControlGroups')) steps.push('ro:/sys/fs/cgroup');
  if (yes('ProtectKernelLogs')) steps.push('null:/proc/kmsg');
  const umask = one(u, S, 'UMask');
  if (umask) steps.push(`umask:${umask}`);
  const unshare = ['unshare', '--mount', '--propagation', 'private', ...(yes('ProtectHostname') ? ['--uts'] : [])];
  const bounding = words(u, S, 'CapabilityBoundingSet');
  const ambient = words(u, S, 'AmbientCapabilities');
  if (one(u, S, 'User')) throw new Error('User= is not rebuilt here');
  const setpriv = [
    'setpriv',
    ...(yes('NoNewPrivileges') ? ['--no-new-privs'] : []),
    ...(all(u, S, 'CapabilityBoundingSet').length ? [`--bounding-set=${caps(bounding)}`] : []),
    `--inh-caps=${caps(ambient)}`,
    `--ambient-caps=${caps(ambient)}`,
  ];
  return { argv: [...unshare, 'sh', '-c', SCRIPT, 'sh', ...steps, '--', ...setpriv], at, enforced, notEnforced };
};

// The bits of the capability set a list names (as /proc/PID/status shows CapBnd, CapEff).
const CAP_NUMBERS: Record<string, number> = { CAP_NET_BIND_SERVICE: 10, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13 };
export const capMask = (list: string[]): bigint =>
  list.reduce((m, c) => {
    const n = CAP_NUMBERS[c];
    if (n === undefined) throw new Error(`capability number of ${c} not listed`);
    return m | (1n << BigInt(n));
  }, 0n);
