import { describe, expect } from '@jest/globals';
import { ManualClock } from '../../../src/core/clock.js';
import { createBackend } from '../../../src/sentryban/actions/factory.js';
import type { Runner } from '../../../src/sentryban/actions/runner.js';
import { describeBackendReal } from './conformance.js';
import { specFromOptions } from '../../../src/sentryban/actions/options.js';
import { itReal } from '../../helpers/real.js';
import { banOf } from './bans.js';
import { useFwLab } from './fw-lab.js';

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

// banMany: new elements as one `create` per set (one kernel change per ban); a batch holding an element that is
// there already goes again as ban()'s plan, which replaces it with the batch's timeout.
describe('nftables banMany: new elements created at once, elements already there replaced', () => {
  const it = itReal({ root: true, commands: ['nc', 'nft'] });
  const fw = useFwLab(['nc', 'nft']);
  it('one create for a fresh batch; a batch with an element already there refreshes its timeout', async () => {
    const f = fw();
    const NOW = Date.now();
    const inputs: string[] = [];
    const recording: Runner = (argv, opts) => {
      if (typeof opts?.input === 'string') inputs.push(opts.input);
      return f.runner(argv, opts);
    };
    const b = createBackend(spec.value, { clock: new ManualClock(NOW), runner: recording });
    if (!b.ok) throw new Error('backend');
    const be = b.value;
    expect(await be.start([])).toEqual({ ok: true });
    inputs.length = 0;
    const fresh = [
      banOf(f.banned.v4, { now: NOW, jail: 'sshd', sec: 600 }),
      banOf(f.banned.v6, { now: NOW, jail: 'sshd', sec: 600 }),
    ];
    expect(await be.banMany!(fresh)).toEqual({ ok: true });
    expect(inputs).toEqual([
      `create element inet sentryban-sshd h4 { ${f.banned.v4} timeout 600s }\n` +
        `create element inet sentryban-sshd h6 { ${f.banned.v6} timeout 600s }\n`,
    ]);
    expect(await f.canConnect(f.banned.v4)).toBe(false);
    expect(await f.canConnect(f.banned.v6)).toBe(false);
    inputs.length = 0;
    const again = [
      banOf(f.other.v4, { now: NOW, jail: 'sshd', sec: 600 }),
      banOf(f.banned.v4, { now: NOW, jail: 'sshd', sec: 3600 }),
    ];
    expect(await be.banMany!(again)).toEqual({ ok: true });
    expect(inputs).toHaveLength(2); // the create refused (one was there), then the full plan
    const listed = await f.victim(['nft', 'list', 'set', 'inet', 'sentryban-sshd', 'h4']);
    expect(count(listed, f.banned.v4)).toBe(1);
    expect(count(listed, f.other.v4)).toBe(1);
    expect(listed).toMatch(new RegExp(`${f.banned.v4.replace(/\./g, '\\.')} timeout 1h`));
    expect(await f.canConnect(f.other.v4)).toBe(false);
    expect(await f.canConnect(f.third.v4)).toBe(true);
  }, 60000);
});
