import { describeBackendReal } from './conformance.js';
import { specFromOptions } from '../../../src/sentryban/actions/options.js';

const spec = specFromOptions('ipset', 'sshd', { port: '0:65535', protocol: 'tcp', blocktype: 'REJECT' });
if (!spec.ok) throw new Error('bad spec');

const setOf = (addr: string) => (addr.includes(':') ? 'sb-sshd-h6' : 'sb-sshd-h4');

describeBackendReal({
  title: 'ipset',
  spec: spec.value,
  commands: ['ipset', 'iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore'],
  count: async (fw, addr) =>
    (await fw.victim(['ipset', 'save']).catch(() => '')).split('\n').filter((l) => l.split(' ')[2] === addr).length,
  removeByHand: async (fw, addr) => {
    await fw.victim(['ipset', 'del', setOf(addr), addr]);
  },
  wipe: async (fw) => {
    for (const t of ['iptables', 'ip6tables']) await fw.victim([t, '-w', '-F']);
    await fw.victim(['ipset', 'destroy']);
  },
});
