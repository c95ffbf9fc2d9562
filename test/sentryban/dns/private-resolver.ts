import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

// A private view of the system resolver for one command: its own mount namespace with our /etc/hosts,
// /etc/nsswitch.conf ("files dns") and /etc/resolv.conf (a name server on loopback only) bind-mounted, and its own
// network namespace with just `lo`, so getaddrinfo is the real one and nothing leaves the namespace.
export type PrivateResolver = { hosts: Record<string, string[]>; resolvConf?: string };

export const privateResolverArgv = (dir: string, cfg: PrivateResolver, cmd: readonly string[]): string[] => {
  const hosts = Object.entries(cfg.hosts).flatMap(([name, addrs]) => addrs.map((a) => `${a} ${name}`));
  writeFileSync(join(dir, 'hosts'), `127.0.0.1 localhost\n${hosts.join('\n')}\n`);
  writeFileSync(join(dir, 'nsswitch.conf'), 'hosts: files dns\n');
  writeFileSync(join(dir, 'resolv.conf'), cfg.resolvConf ?? 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
  const script = [
    'set -e',
    'ip link set lo up',
    `mount --bind ${join(dir, 'hosts')} /etc/hosts`,
    `mount --bind ${join(dir, 'nsswitch.conf')} /etc/nsswitch.conf`,
    `mount --bind ${join(dir, 'resolv.conf')} /etc/resolv.conf`,
    'exec "$@"',
  ].join('\n');
  return ['unshare', '-m', '-n', 'sh', '-c', script, 'sh', ...cmd];
};
