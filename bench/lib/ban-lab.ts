import { execa } from 'execa';
import { randomBytes } from 'node:crypto';

// Two namespaces joined by a veth pair for benches (documentation addresses); deleted by close(), even on failure.
export type BenchLab = { victim: string; attacker: string; close(): Promise<void> };

const ip = (args: string[]) => execa('ip', args, { timeout: 15000 });

export const openBenchLab = async (): Promise<BenchLab> => {
  const id = randomBytes(3).toString('hex');
  const victim = `sb-bench-${id}-v`;
  const attacker = `sb-bench-${id}-a`;
  const close = async (): Promise<void> => {
    await ip(['netns', 'del', victim]).catch(() => {});
    await ip(['netns', 'del', attacker]).catch(() => {});
  };
  try {
    await ip(['netns', 'add', victim]);
    await ip(['netns', 'add', attacker]);
    await ip(['link', 'add', `sbv${id}`, 'type', 'veth', 'peer', 'name', `sba${id}`]);
    await ip(['link', 'set', `sbv${id}`, 'netns', victim]);
    await ip(['link', 'set', `sba${id}`, 'netns', attacker]);
    for (const [ns, dev, a] of [
      [victim, `sbv${id}`, '192.0.2.1'],
      [attacker, `sba${id}`, '192.0.2.2'],
    ] as const) {
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      await ip(['-n', ns, 'link', 'set', dev, 'up']);
      await ip(['-n', ns, 'addr', 'add', `${a}/24`, 'dev', dev]);
    }
    return { victim, attacker, close };
  } catch (e) {
    await close();
    throw e;
  }
};
