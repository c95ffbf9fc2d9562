import { describeBackendReal } from './conformance.js';
import { specFromOptions } from '../../../src/sentryban/actions/options.js';

const spec = specFromOptions('route', 'sshd', { blocktype: 'unreachable' });
if (!spec.ok) throw new Error('bad spec');
const fam = (addr: string) => (addr.includes(':') ? '-6' : '-4');

describeBackendReal({
  title: 'route',
  spec: spec.value,
  commands: [],
  count: async (fw, addr) =>
    (await fw.victim(['ip', fam(addr), 'route', 'show', 'proto', '251']))
      .split('\n')
      .filter((l) => l.split(/\s+/)[1] === addr).length,
  removeByHand: async (fw, addr) => {
    await fw.victim(['ip', fam(addr), 'route', 'del', addr]);
  },
  wipe: async (fw) => {
    for (const f of ['-4', '-6']) await fw.victim(['ip', f, 'route', 'flush', 'proto', '251']);
  },
});
