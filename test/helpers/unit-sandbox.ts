import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

// This checkout (its bin/ is what the tests run for /usr/local/bin/X).
const CHECKOUT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

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
  keep:*) mount --bind "\${arg#*:}" "\${arg%%:*}" ;;
  back:*) dst=\${arg#*:}; mkdir -p "$dst"; mount --bind "\${arg%%:*}" "$dst"; mount -o remount,bind,ro "$dst" ;;
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
  'RestartPreventExitStatus',
  'TimeoutStopSec',
];
// The seccomp keys, last before the daemon (after setpriv, whose capset the filter could refuse): Debian's
// libseccomp through /usr/bin/python3's seccomp module (package python3-seccomp). argv: allowed syscalls (comma
// list), the errno number for the others, allowed socket() families (comma list of numbers, empty: any), the
// command. A syscall this libseccomp does not know is skipped, as systemd skips it.
export const SECCOMP_PYTHON = '/usr/bin/python3';
const SECCOMP = `import os, sys, seccomp
allow, err, fams, argv = sys.argv[1].split(','), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(err))
for name in allow:
    if fams and name == 'socket':
        continue
    try:
        f.add_rule(seccomp.ALLOW, name)
    except (RuntimeError, ValueError):
        pass
if fams:
    for fam in fams.split(','):
        f.add_rule(seccomp.ALLOW, 'socket', seccomp.Arg(0, seccomp.EQ, int(fam)))
f.load()
os.execvp(argv[0], argv)`;

// systemd's syscall groups, expanded as systemd-analyze lists them (a group may name groups).
const groups = new Map<string, string[]>();
const expand = (name: string): string[] => {
  if (!name.startsWith('@')) return [name];
  const known = groups.get(name);
  if (known) return known;
  const text = execFileSync('systemd-analyze', ['syscall-filter', name], { encoding: 'utf8' });
  const out = text
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .flatMap(expand);
  groups.set(name, out);
  return out;
};
const FAMILIES: Record<string, number> = { AF_UNIX: 1, AF_INET: 2, AF_INET6: 10, AF_NETLINK: 16, AF_PACKET: 17 };
const ERRNO: Record<string, number> = { EPERM: 1, EACCES: 13, ENOSYS: 38 };

// SystemCallFilter= as systemd reads it: an allow list, then `~` lines taking groups or calls out of it.
const seccompArgv = (u: Unit): string[] => {
  const allowed = new Set<string>();
  for (const line of all(u, 'Service', 'SystemCallFilter')) {
    const deny = line.startsWith('~');
    for (const w of (deny ? line.slice(1) : line).split(/\s+/).filter((x) => x !== ''))
      for (const call of expand(w)) {
        if (deny) allowed.delete(call);
        else allowed.add(call);
      }
  }
  if (allowed.size === 0) throw new Error('SystemCallFilter= with no allow list is not rebuilt here');
  const errName = one(u, 'Service', 'SystemCallErrorNumber') ?? 'EPERM';
  const err = ERRNO[errName];
  if (err === undefined) throw new Error(`SystemCallErrorNumber=${errName}: number not listed`);
  const fams = words(u, 'Service', 'RestrictAddressFamilies').map((f) => {
    const n = FAMILIES[f];
    if (n === undefined) throw new Error(`RestrictAddressFamilies: ${f} not listed`);
    return String(n);
  });
  return [SECCOMP_PYTHON, '-c', SECCOMP, [...allowed].join(','), String(err), fams.join(',')];
};

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
  SystemCallFilter: true,
  SystemCallArchitectures: true, // libseccomp's filter admits the native architecture only
  SystemCallErrorNumber: true,
  RestrictAddressFamilies: true,
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
  if (yes('PrivateTmp')) {
    // The checkout stands in for /usr/local (the Exec lines run its bin/): a clone under /tmp or /var/tmp would
    // vanish under the private /tmp, where an installed program never lives. It is kept there, read-only.
    const stage = join(o.root, '.checkout');
    const under = ['/tmp/', '/var/tmp/'].some((t) => CHECKOUT.startsWith(t));
    if (under) mkdirSync(stage, { recursive: true });
    if (under) steps.push(`keep:${stage}:${CHECKOUT}`);
    steps.push('tmpfs:/tmp', 'tmpfs:/var/tmp');
    if (under) steps.push(`back:${stage}:${CHECKOUT}`);
  }
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
  const seccomp = all(u, S, 'SystemCallFilter').length ? seccompArgv(u) : [];
  return {
    argv: [...unshare, 'sh', '-c', SCRIPT, 'sh', ...steps, '--', ...setpriv, ...seccomp],
    at,
    enforced,
    notEnforced,
  };
};

// The bits of the capability set a list names (as /proc/PID/status shows CapBnd, CapEff).
const CAP_NUMBERS: Record<string, number> = {
  CAP_DAC_READ_SEARCH: 2,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
};
export const capMask = (list: string[]): bigint =>
  list.reduce((m, c) => {
    const n = CAP_NUMBERS[c];
    if (n === undefined) throw new Error(`capability number of ${c} not listed`);
    return m | (1n << BigInt(n));
  }, 0n);
