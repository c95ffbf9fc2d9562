import { describeBackendReal } from './conformance.js';
import { specFromOptions } from '../../../src/sentryban/actions/options.js';

const spec = specFromOptions('nftables', 'sshd', { port: '2222,3000:3010', protocol: 'tcp' });
if (!spec.ok) throw new Error('bad spec');

const count = (text: string, addr: string): number => text.split(/[\s,{}]+/).filter((w) => w === addr).length;

describeBackendReal({
  title: 'nftables',
  spec: spec.value,
  commands: ['nft'],
  count: async (fw, addr) =>
    count(await fw.victim(['nft', 'list', 'table', 'inet', 'sentryban-sshd']).catch(() => ''), addr),
  removeByHand: async (fw, addr) => {
    await fw.victim([
      'nft',
      'delete',
      'element',
      'inet',
      'sentryban-sshd',
      addr.includes(':') ? 'h6' : 'h4',
      `{ ${addr} }`,
    ]);
  },
  wipe: async (fw) => {
    await fw.victim(['nft', 'flush', 'ruleset']);
  },
});

// The same checks with DROP on every protocol and port (a banned connection times out instead of being refused).
const drop = specFromOptions('nftables', 'sshd', { protocol: 'all', blocktype: 'drop' });
if (!drop.ok) throw new Error('bad spec');
describeBackendReal({
  title: 'nftables (drop, all protocols)',
  spec: drop.value,
  commands: ['nft'],
  count: async (fw, addr) =>
    count(await fw.victim(['nft', 'list', 'table', 'inet', 'sentryban-sshd']).catch(() => ''), addr),
  removeByHand: async (fw, addr) => {
    await fw.victim([
      'nft',
      'delete',
      'element',
      'inet',
      'sentryban-sshd',
      addr.includes(':') ? 'h6' : 'h4',
      `{ ${addr} }`,
    ]);
  },
  wipe: async (fw) => {
    await fw.victim(['nft', 'flush', 'ruleset']);
  },
});
