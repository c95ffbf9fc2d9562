import { describe, expect } from '@jest/globals';
import { ManualClock } from '../../../src/core/clock.js';
import type { ActionBackend, ActionOutcome, Ban } from '../../../src/sentryban/types.js';
import type { ActionSpec } from '../../../src/sentryban/actions/spec.js';
import { createBackend } from '../../../src/sentryban/actions/factory.js';
import type { Runner } from '../../../src/sentryban/actions/runner.js';
import { itReal } from '../../helpers/real.js';
import { useFwLab, missingToolRunner, type FwLab } from './fw-lab.js';
import { banOf } from './bans.js';

// The same real checks for every firewall backend, both families, inside a lab the suite creates and deletes.
export type BackendCase = {
  title: string;
  spec: ActionSpec;
  commands: string[];
  // How many times the listing shows this address (one after a ban, however often it was banned).
  count(fw: FwLab, addr: string): Promise<number>;
  // Remove the enforcement of one address by hand, as an admin might.
  removeByHand(fw: FwLab, addr: string): Promise<void>;
  // Wipe everything (a reboot, `nft flush ruleset`, `iptables -F`).
  wipe(fw: FwLab): Promise<void>;
};

const NOW = 1_700_000_000_000;
const expectOk = (o: ActionOutcome): void => {
  expect(o).toEqual({ ok: true });
};

export const describeBackendReal = (c: BackendCase): void => {
  describe(`${c.title} on a real firewall in a namespace`, () => {
    const it = itReal({ root: true, commands: ['ip', 'nc', ...c.commands] });
    const fw = useFwLab(c.commands);
    const clock = new ManualClock(NOW);
    const make = (runner?: Runner): ActionBackend => {
      const r = createBackend(c.spec, { clock, runner: runner ?? fw().runner });
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      return r.value;
    };
    const bansFor = (f: FwLab): Ban[] => [banOf(f.banned.v4, { now: NOW }), banOf(f.banned.v6, { now: NOW })];
    it('ban blocks the banned source and not the other, both families; unban lets both through', async () => {
      const f = fw();
      const b = make();
      expectOk(await b.start([]));
      for (const ban of bansFor(f)) expectOk(await b.ban(ban));
      for (const fam of ['v4', 'v6'] as const) {
        expect(await f.canConnect(f.banned[fam])).toBe(false);
        expect(await f.canConnect(f.other[fam])).toBe(true);
      }
      for (const ban of bansFor(f)) {
        expectOk(await b.unban(ban));
        expectOk(await b.unban(ban));
      }
      for (const fam of ['v4', 'v6'] as const) {
        expect(await f.canConnect(f.banned[fam])).toBe(true);
        expect(await f.canConnect(f.other[fam])).toBe(true);
      }
    }, 60000);

    it('banMany (where the backend has it): a batch blocks each banned source, both families, in one command', async () => {
      const f = fw();
      const calls: string[][] = [];
      const counting: Runner = (argv, opts) => {
        calls.push([...argv]);
        return f.runner(argv, opts);
      };
      const b = make(counting);
      if (!b.banMany) return; // one ban at a time for this backend (the daemon calls ban() for each)
      expectOk(await b.start([]));
      calls.length = 0;
      const batch = [...bansFor(f), banOf('198.51.100.77', { now: NOW }), banOf('2001:db8:77::1', { now: NOW })];
      expectOk(await b.banMany(batch));
      expect(calls).toHaveLength(1);
      for (const fam of ['v4', 'v6'] as const) {
        expect(await f.canConnect(f.banned[fam])).toBe(false);
        expect(await f.canConnect(f.other[fam])).toBe(true);
      }
      expectOk(await b.banMany(batch)); // idempotent, as ban()
      for (const ban of bansFor(f)) expect(await c.count(f, ban.target.text.replace(/\/(32|128)$/, ''))).toBe(1);
      for (const ban of batch) expectOk(await b.unban(ban));
      for (const fam of ['v4', 'v6'] as const) expect(await f.canConnect(f.banned[fam])).toBe(true);
    }, 60000);

    it('a prefix ban blocks every address in it and nothing outside, both families', async () => {
      const f = fw();
      const b = make();
      const nets = [banOf(`${f.banned.v4}/31`, { now: NOW }), banOf(`${f.banned.v6}/127`, { now: NOW })];
      expectOk(await b.start([]));
      for (const n of nets) expectOk(await b.ban(n));
      for (const fam of ['v4', 'v6'] as const) {
        expect(await f.canConnect(f.banned[fam])).toBe(false);
        expect(await f.canConnect(f.other[fam])).toBe(false);
        expect(await f.canConnect(f.third[fam])).toBe(true);
      }
      for (const n of nets) expectOk(await b.unban(n));
      for (const fam of ['v4', 'v6'] as const) expect(await f.canConnect(f.other[fam])).toBe(true);
    }, 60000);

    it('banning twice leaves one rule or element per address', async () => {
      const f = fw();
      const b = make();
      expectOk(await b.start([]));
      for (const ban of [...bansFor(f), ...bansFor(f)]) expectOk(await b.ban(ban));
      expect(await c.count(f, f.banned.v4)).toBe(1);
      expect(await c.count(f, f.banned.v6)).toBe(1);
      expectOk(await b.start(bansFor(f)));
      expect(await c.count(f, f.banned.v4)).toBe(1);
      expect(await c.count(f, f.banned.v6)).toBe(1);
      expectOk(await b.start([]));
      expect(await c.count(f, f.banned.v4)).toBe(0);
    }, 60000);

    it('a wiped ruleset comes back on start (restart), in force for both families', async () => {
      const f = fw();
      expectOk(await make().start(bansFor(f)));
      await c.wipe(f);
      expect(await f.canConnect(f.banned.v4)).toBe(true);
      expectOk(await make().start(bansFor(f)));
      expect(await f.canConnect(f.banned.v4)).toBe(false);
      expect(await f.canConnect(f.banned.v6)).toBe(false);
      expect(await f.canConnect(f.other.v4)).toBe(true);
      expect(await f.canConnect(f.other.v6)).toBe(true);
    }, 60000);

    it('check repairs a rule removed by hand and drops one the store no longer has', async () => {
      const f = fw();
      const b = make();
      const stale = banOf('198.51.100.77', { now: NOW });
      expectOk(await b.start([...bansFor(f), stale]));
      await c.removeByHand(f, f.banned.v4);
      await c.removeByHand(f, f.banned.v6);
      expect(await f.canConnect(f.banned.v4)).toBe(true);
      const repaired = await b.check(bansFor(f));
      expect(repaired.ok).toBe(true);
      // What was put right is said, for the audit trail: both restored addresses and the stray.
      for (const s of [f.banned.v4, f.banned.v6, '198.51.100.77'])
        expect(repaired.ok && repaired.repaired).toContain(s);
      expect(await f.canConnect(f.banned.v4)).toBe(false);
      expect(await f.canConnect(f.banned.v6)).toBe(false);
      expect(await c.count(f, '198.51.100.77')).toBe(0);
      expectOk(await b.check(bansFor(f)));
      expect(await c.count(f, f.banned.v4)).toBe(1);
    }, 60000);

    it('a missing tool gives an ActionFailed value for every verb, never a throw', async () => {
      const f = fw();
      const b = make(missingToolRunner(f.lab));
      const ban = bansFor(f)[0]!;
      for (const out of [await b.start([ban]), await b.ban(ban), await b.unban(ban), await b.check([ban])]) {
        expect(out.ok).toBe(false);
        if (!out.ok) {
          expect(out.failure.kind).toBe('ActionFailed');
          expect(out.failure.backend).toBe(b.name);
        }
      }
    }, 60000);
  });
};
