import { describe, expect } from '@jest/globals';
import { ManualClock } from '../../../src/core/clock.js';
import { createBackend } from '../../../src/sentryban/actions/factory.js';
import { specFromOptions } from '../../../src/sentryban/actions/options.js';
import type { Piece, Runner } from '../../../src/sentryban/actions/runner.js';
import type { ActionBackend, Ban } from '../../../src/sentryban/types.js';
import { itReal } from '../../helpers/real.js';
import { useFwLab, type FwLab } from './fw-lab.js';
import { banOf } from './bans.js';

// A restore is fed to nft / ipset piece by piece while it is built. Input that stops short (a piece that cannot be
// built; the daemon killed while writing) must leave the bans that were in force, whatever the point of the cut:
// nft refuses the unfinished table block, ipset never reaches the swaps (they come after every set is filled).
const NOW = 1_700_000_000_000;
const MORE = 12000; // three pieces of elements in h4

// The runner the backend is given, but a batch given in pieces stops after `keep` pieces (the next one throws).
const cutAfter =
  (run: Runner, keep: number): Runner =>
  (argv, o) => {
    const input = o?.input;
    if (input === undefined || typeof input === 'string') return run(argv, o);
    const pieces = input;
    async function* cut(): AsyncGenerator<Piece, void, void> {
      let n = 0;
      for await (const piece of pieces) {
        if (n++ === keep) throw new Error(`input cut after ${keep} pieces`);
        yield piece;
      }
    }
    return run(argv, { ...o, input: cut() });
  };

for (const kind of ['nftables', 'ipset'] as const) {
  const tools = kind === 'nftables' ? ['nft'] : ['ipset', 'iptables-restore', 'ip6tables-restore'];
  describe(`${kind}: a restore cut short leaves the old bans in force`, () => {
    const it = itReal({ root: true, commands: ['nc', ...tools] });
    const fw = useFwLab(['nc', ...tools]);
    const make = (runner: Runner): ActionBackend => {
      const s = specFromOptions(kind, 'cut', { port: '0:65535', protocol: 'tcp' });
      if (!s.ok) throw new Error('spec');
      const b = createBackend(s.value, { clock: new ManualClock(NOW), runner });
      if (!b.ok) throw new Error('backend');
      return b.value;
    };
    const old = (f: FwLab): Ban[] => [banOf(f.banned.v4, { now: NOW }), banOf(f.banned.v6, { now: NOW })];
    const more = Array.from({ length: MORE }, (_, i) => banOf(`10.1.${i >> 8}.${i & 255}`, { now: NOW, sec: 900 }));
    // The members of our IPv4 host set, as the kernel lists them.
    const hosts4 = async (f: FwLab): Promise<string[]> => {
      const text =
        kind === 'nftables'
          ? await f.victim(['nft', 'list', 'set', 'inet', 'sentryban-cut', 'h4'])
          : await f.victim(['ipset', 'list', 'sb-cut-h4']);
      return [...text.matchAll(/\b(\d+\.\d+\.\d+\.\d+)\b/g)].map((m) => m[1]!);
    };
    it('cut after the first piece, inside the elements, and just before the end: refused, nothing changed', async () => {
      const f = fw();
      const b = make(f.runner);
      expect(await b.start(old(f))).toEqual({ ok: true });
      const pieces = kind === 'nftables' ? [1, 2, 4, 9] : [1, 2, 3, 4];
      for (const keep of pieces) {
        const o = await make(cutAfter(f.runner, keep)).start([...old(f), ...more]);
        expect(o.ok).toBe(false);
        // nft reads to the end of its input and refuses it; ipset applies what it read (never the cut set's swap)
        // and exits 0, which the runner turns into a failure because the input was not written whole.
        expect(!o.ok && o.failure.stderr).toContain(
          kind === 'nftables' ? 'syntax error, unexpected end of file' : `input cut after ${keep} pieces`,
        );
        expect(await hosts4(f)).toEqual([f.banned.v4]);
        expect(await f.canConnect(f.banned.v4)).toBe(false);
        expect(await f.canConnect(f.banned.v6)).toBe(false);
        expect(await f.canConnect(f.other.v4)).toBe(true);
      }
      // The next whole restore puts everything in force, once each, and leaves no temporary set behind.
      expect(await b.start([...old(f), ...more])).toEqual({ ok: true });
      const now = await hosts4(f);
      expect(now).toHaveLength(MORE + 1);
      expect(new Set(now).size).toBe(MORE + 1);
      expect(await f.canConnect(f.banned.v6)).toBe(false);
      if (kind === 'ipset') {
        expect(await f.victim(['ipset', 'list', '-n'])).not.toContain('.t');
        // Every start re-asserted the rules (alongside the sets once they existed): each is there once.
        for (const save of ['iptables-save', 'ip6tables-save']) {
          const lines = (await f.victim([save, '-t', 'filter'])).split('\n');
          expect(lines.filter((l) => l.includes('--match-set sb-cut-'))).toHaveLength(2);
        }
      }
    }, 120000);
  });
}
