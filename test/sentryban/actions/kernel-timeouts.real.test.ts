import { describe, expect } from '@jest/globals';
import { ManualClock } from '../../../src/core/clock.js';
import { createBackend } from '../../../src/sentryban/actions/factory.js';
import { specFromOptions } from '../../../src/sentryban/actions/options.js';
import type { ActionBackend, Ban } from '../../../src/sentryban/types.js';
import type { Runner } from '../../../src/sentryban/actions/runner.js';
import { itReal } from '../../helpers/real.js';
import { waitFor } from '../../helpers/wait.js';
import { useFwLab, type FwLab } from './fw-lab.js';
import { banOf } from './bans.js';

// Kernel timeouts are a safety net, the store is the truth. A backend whose clock runs 598 s ahead of the store
// sets 2 s kernel timeouts on 600 s bans: they all lapse together (the other project's failure mode); check
// with the store's bans puts every one back, and a check before they lapse refreshes them so none lapses.
const NOW = 1_700_000_000_000;
const N = 300;

for (const kind of ['nftables', 'ipset'] as const) {
  describe(`${kind}: mass kernel expiry leaves no hole`, () => {
    const it = itReal({ root: true, commands: ['nc', kind === 'nftables' ? 'nft' : 'ipset'] });
    const fw = useFwLab(['nc', kind === 'nftables' ? 'nft' : 'ipset']);
    const specOf = () => {
      const s = specFromOptions(kind, 'kt', { port: '0:65535', protocol: 'tcp' });
      if (!s.ok) throw new Error('spec');
      return s.value;
    };
    const make = (clock: ManualClock): ActionBackend => {
      const b = createBackend(specOf(), { clock, runner: fw().runner });
      if (!b.ok) throw new Error('backend');
      return b.value;
    };
    const storeBans = (f: FwLab): Ban[] => [
      banOf(f.banned.v4, { now: NOW, jail: 'kt' }),
      banOf(f.banned.v6, { now: NOW, jail: 'kt' }),
      ...Array.from({ length: N }, (_, i) => banOf(`198.51.100.${i % 250}`, { now: NOW + i, jail: 'kt' })),
      ...Array.from({ length: N }, (_, i) => banOf(`2001:db8:99::${(i + 1).toString(16)}`, { now: NOW, jail: 'kt' })),
    ];
    it('all kernel timeouts lapse at once; check from the store puts every ban back', async () => {
      const f = fw();
      const bans = storeBans(f);
      expect(await make(new ManualClock(NOW + 598_000)).start(bans)).toEqual({ ok: true });
      expect(await f.canConnect(f.banned.v4)).toBe(false);
      await waitFor(async () => (await f.canConnect(f.banned.v4)) && (await f.canConnect(f.banned.v6)), {
        timeoutMs: 8000,
        intervalMs: 250,
        what: 'kernel expiry',
      });
      expect(await make(new ManualClock(NOW)).check(bans)).toMatchObject({ ok: true, repaired: expect.any(String) });
      expect(await f.canConnect(f.banned.v4)).toBe(false);
      expect(await f.canConnect(f.banned.v6)).toBe(false);
      expect(await f.canConnect(f.other.v4)).toBe(true);
    }, 60000);

    it('check before the lapse refreshes timeouts that would end before the store says', async () => {
      const f = fw();
      const bans = storeBans(f);
      expect(await make(new ManualClock(NOW + 597_000)).start(bans)).toEqual({ ok: true });
      expect(await make(new ManualClock(NOW)).check(bans)).toMatchObject({ ok: true, repaired: expect.any(String) });
      await new Promise((r) => setTimeout(r, 4500)); // past the 3 s kernel timeouts first set
      expect(await f.canConnect(f.banned.v4)).toBe(false);
      expect(await f.canConnect(f.banned.v6)).toBe(false);
    }, 60000);

    // The race behind a failure seen on a loaded machine: check lists an element about to lapse, the element
    // lapses, then the repair removes it to refresh its timeout. The repair is held 3 s to make the lapse certain.
    it('an element lapsing between the listing and the repair: the repair still succeeds', async () => {
      const f = fw();
      const bans = [banOf(f.banned.v4, { now: NOW, jail: 'kt' }), banOf(f.banned.v6, { now: NOW, jail: 'kt' })];
      expect(await make(new ManualClock(NOW + 598_000)).start(bans)).toEqual({ ok: true });
      const slowRepair: Runner = async (argv, o) => {
        if (argv[0] === 'nft' ? argv[1] === '-f' : argv[1] === '-exist' && argv[2] === 'restore')
          await new Promise((r) => setTimeout(r, 3000));
        return f.runner(argv, o);
      };
      const b = createBackend(specOf(), { clock: new ManualClock(NOW), runner: slowRepair });
      if (!b.ok) throw new Error('backend');
      expect(await b.value.check(bans)).toMatchObject({ ok: true, repaired: expect.any(String) });
      expect(await f.canConnect(f.banned.v4)).toBe(false);
      expect(await f.canConnect(f.banned.v6)).toBe(false);
    }, 60000);

    it('over 20,000 bans, check rebuilds in one batch and repairs a removed element', async () => {
      const f = fw();
      const clock = new ManualClock(NOW);
      const bans = [
        ...storeBans(f),
        ...Array.from({ length: 20000 }, (_, i) =>
          banOf(`2001:db8:aa::${(i + 1).toString(16)}`, { now: NOW, jail: 'kt' }),
        ),
      ];
      expect(await make(clock).start(bans)).toEqual({ ok: true });
      const del =
        kind === 'nftables'
          ? ['nft', 'delete', 'element', 'inet', 'sentryban-kt', 'h4', `{ ${f.banned.v4} }`]
          : ['ipset', 'del', 'sb-kt-h4', f.banned.v4];
      await f.victim(del);
      expect(await f.canConnect(f.banned.v4)).toBe(true);
      expect(await make(clock).check(bans)).toEqual({ ok: true }); // a blind rebuild: it cannot say what was missing
      expect(await f.canConnect(f.banned.v4)).toBe(false);
    }, 60000);
  });
}
