import { execa, type Options } from 'execa';
import { randomBytes } from 'node:crypto';

// A fleet lab: a hub namespace (where Redis runs) and one namespace per host, each joined to the hub by a veth
// pair of its own (so that one host's link can be cut alone). Documentation addresses only (198.51.100.0/24,
// one /29 per link: hub .8i+1, host .8i+2). Everything is made in namespaces this lab creates and deletes; the
// machine's own interfaces and rules are never touched.
export type FleetHost = { name: string; ns: string; dev: string; addr: string; hubAddr: string };
export type FleetLab = {
  hub: string;
  hosts: FleetHost[];
  run(ns: string, argv: string[], opts?: Options): ReturnType<typeof execa>;
  cut(h: FleetHost): Promise<void>; // the host's link down (both ends lose carrier)
  restore(h: FleetHost): Promise<void>;
  destroy(): Promise<void>;
};

const ip = (args: string[]) => execa('ip', args, { timeout: 15_000 });

export const createFleetLab = async (names: readonly string[]): Promise<FleetLab> => {
  const id = randomBytes(3).toString('hex');
  const hub = `sf-${id}-hub`;
  const hosts: FleetHost[] = names.map((name, i) => ({
    name,
    ns: `sf-${id}-${name}`,
    dev: `sfh${id}${i}`,
    addr: `198.51.100.${8 * i + 2}`,
    hubAddr: `198.51.100.${8 * i + 1}`,
  }));
  const lab: FleetLab = {
    hub,
    hosts,
    run: (ns, argv, o) => execa('ip', ['netns', 'exec', ns, ...argv], { timeout: 60_000, ...o }),
    cut: async (h) => void (await ip(['-n', h.ns, 'link', 'set', h.dev, 'down'])),
    restore: async (h) => void (await ip(['-n', h.ns, 'link', 'set', h.dev, 'up'])),
    async destroy() {
      for (const h of hosts) await ip(['netns', 'del', h.ns]).catch(() => {});
      await ip(['netns', 'del', hub]).catch(() => {});
    },
  };
  try {
    await ip(['netns', 'add', hub]);
    await ip(['-n', hub, 'link', 'set', 'lo', 'up']);
    for (const [i, h] of hosts.entries()) {
      const hubDev = `sfr${id}${i}`;
      await ip(['netns', 'add', h.ns]);
      await ip(['-n', h.ns, 'link', 'set', 'lo', 'up']);
      await ip(['link', 'add', hubDev, 'netns', hub, 'type', 'veth', 'peer', 'name', h.dev, 'netns', h.ns]);
      await ip(['-n', hub, 'addr', 'add', `${h.hubAddr}/29`, 'dev', hubDev]);
      await ip(['-n', h.ns, 'addr', 'add', `${h.addr}/29`, 'dev', h.dev]);
      await ip(['-n', hub, 'link', 'set', hubDev, 'up']);
      await ip(['-n', h.ns, 'link', 'set', h.dev, 'up']);
    }
    return lab;
  } catch (e) {
    await lab.destroy();
    throw e;
  }
};
