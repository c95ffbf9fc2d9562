import { describeBackendReal } from './conformance.js';
import { specFromOptions } from '../../../src/sentryban/actions/options.js';

const spec = specFromOptions('iptables', 'sshd', {
  port: '2222,3000:3010',
  protocol: 'tcp',
  blocktype: 'REJECT --reject-with tcp-reset',
});
if (!spec.ok) throw new Error('bad spec');

const save = (fw: { victim(a: string[]): Promise<string> }, addr: string) =>
  fw.victim([addr.includes(':') ? 'ip6tables-save' : 'iptables-save', '-t', 'filter']);

describeBackendReal({
  title: 'iptables/ip6tables',
  spec: spec.value,
  commands: ['iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore'],
  count: async (fw, addr) =>
    (await save(fw, addr)).split('\n').filter((l) => l.startsWith('-A sb-sshd ') && l.includes(` -s ${addr}/`)).length,
  removeByHand: async (fw, addr) => {
    const six = addr.includes(':');
    const line = (await save(fw, addr))
      .split('\n')
      .find((l) => l.startsWith('-A sb-sshd ') && l.includes(` -s ${addr}/`));
    if (!line) throw new Error(`no rule for ${addr}`);
    await fw.victim([six ? 'ip6tables' : 'iptables', '-w', '-D', ...line.slice(3).split(' ')]);
  },
  wipe: async (fw) => {
    for (const t of ['iptables', 'ip6tables']) {
      await fw.victim([t, '-w', '-F']);
      await fw.victim([t, '-w', '-X']);
    }
  },
});
