import { execa, type Options } from 'execa';
import { randomBytes } from 'node:crypto';

// A two-host lab: a "victim" namespace (where the daemon under test runs) and an "attacker" namespace, joined
// by a veth pair. Documentation addresses only. Created and deleted by the test; the host's own rules are never
// touched.
export type Lab = {
  id: string;
  victim: string;
  attacker: string;
  victimV4: string;
  attackerV4: string;
  victimV6: string;
  attackerV6: string;
  // Run argv inside a namespace (argv array, no shell).
  run(ns: string, argv: string[], opts?: Options): ReturnType<typeof execa>;
  // Add source addresses (v4 /24 or v6 /64 documentation ranges) to the attacker's interface.
  addAttackerAddrs(addrs: string[]): Promise<void>;
  destroy(): Promise<void>;
};

const ip = (args: string[]) => execa('ip', args, { timeout: 15000 });

export const createLab = async (opts: { v4Net?: string; v6Net?: string } = {}): Promise<Lab> => {
  const id = randomBytes(3).toString('hex');
  const victim = `st-${id}-v`;
  const attacker = `st-${id}-a`;
  const vethV = `stv${id}`;
  const vethA = `sta${id}`;
  const v4 = opts.v4Net ?? '192.0.2';
  const v6 = opts.v6Net ?? '2001:db8::';
  const lab: Lab = {
    id,
    victim,
    attacker,
    victimV4: `${v4}.1`,
    attackerV4: `${v4}.2`,
    victimV6: `${v6}1`,
    attackerV6: `${v6}2`,
    run: (ns, argv, o) => execa('ip', ['netns', 'exec', ns, ...argv], { timeout: 60000, ...o }),
    async addAttackerAddrs(addrs) {
      for (const a of addrs) {
        const cidr = a.includes(':') ? `${a}/64` : `${a}/24`;
        await ip(['-n', attacker, 'addr', 'add', cidr, 'dev', vethA, ...(a.includes(':') ? ['nodad'] : [])]);
      }
    },
    async destroy() {
      await ip(['netns', 'del', victim]).catch(() => {});
      await ip(['netns', 'del', attacker]).catch(() => {});
    },
  };
  try {
    await ip(['netns', 'add', victim]);
    await ip(['netns', 'add', attacker]);
    await ip(['link', 'add', vethV, 'type', 'veth', 'peer', 'name', vethA]);
    await ip(['link', 'set', vethV, 'netns', victim]);
    await ip(['link', 'set', vethA, 'netns', attacker]);
    for (const [ns, dev, a4, a6] of [
      [victim, vethV, lab.victimV4, lab.victimV6],
      [attacker, vethA, lab.attackerV4, lab.attackerV6],
    ] as const) {
      await execa('ip', [
        'netns',
        'exec',
        ns,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=0',
        'net.ipv6.conf.default.disable_ipv6=0',
      ]).catch(() => {});
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      await ip(['-n', ns, 'link', 'set', dev, 'up']);
      await ip(['-n', ns, 'addr', 'add', `${a4}/24`, 'dev', dev]);
      await ip(['-n', ns, 'addr', 'add', `${a6}/64`, 'dev', dev, 'nodad']);
    }
    return lab;
  } catch (e) {
    await lab.destroy();
    throw e;
  }
};
