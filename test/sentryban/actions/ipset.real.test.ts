import { describe, expect } from '@jest/globals';
import { ManualClock } from '../../../src/core/clock.js';
import { createBackend } from '../../../src/sentryban/actions/factory.js';
import { describeBackendReal } from './conformance.js';
import { specFromOptions } from '../../../src/sentryban/actions/options.js';
import { itReal } from '../../helpers/real.js';
import { useFwLab } from './fw-lab.js';
import { banOf } from './bans.js';
import type { Runner } from '../../../src/sentryban/actions/runner.js';

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

// start() in the three states a restore meets: nothing of ours (a reboot: the rules are written without reading
// them, no rule can name a missing set), sets without their rules (iptables flushed by hand), and sets made with
// another maxelem (the config changed since: the swap brings the new one). Each ends with every rule once.
describe('ipset start: fresh, rules gone, maxelem changed', () => {
  const it = itReal({ root: true, commands: ['ip', 'nc', 'ipset', 'iptables-restore', 'ip6tables-restore'] });
  const fw = useFwLab(['ip', 'nc', 'ipset']);
  const NOW = 1_700_000_000_000;
  const make = (maxelem: string) => {
    const s = specFromOptions('ipset', 'st', { port: '0:65535', protocol: 'tcp', maxelem });
    if (!s.ok) throw new Error('spec');
    const b = createBackend(s.value, { clock: new ManualClock(NOW), runner: fw().runner });
    if (!b.ok) throw new Error('backend');
    return b.value;
  };
  const ruleCount = async (): Promise<number[]> =>
    Promise.all(
      ['iptables-save', 'ip6tables-save'].map(
        async (t) =>
          (await fw().victim([t, '-t', 'filter'])).split('\n').filter((l) => l.includes('--match-set sb-st-')).length,
      ),
    );
  it('blocks both families and leaves each rule once, whatever was there', async () => {
    const f = fw();
    const bans = [banOf(f.banned.v4, { now: NOW }), banOf(f.banned.v6, { now: NOW })];
    const blocked = async (): Promise<void> => {
      expect(await f.canConnect(f.banned.v4)).toBe(false);
      expect(await f.canConnect(f.banned.v6)).toBe(false);
      expect(await f.canConnect(f.other.v4)).toBe(true);
      expect(await ruleCount()).toEqual([2, 2]);
    };
    expect(await make('1000').start(bans)).toEqual({ ok: true });
    await blocked();
    for (const t of ['iptables', 'ip6tables']) await f.victim([t, '-w', '-F']);
    expect(await make('1000').start(bans)).toEqual({ ok: true });
    await blocked();
    expect(await make('5000').start(bans)).toEqual({ ok: true });
    await blocked();
    expect(await f.victim(['ipset', 'list', '-t', 'sb-st-h4'])).toContain('maxelem 5000');
    expect(await f.victim(['ipset', 'list', '-n'])).not.toContain('.t');
  }, 120000);
});

// A restart over our sets with their rules in place reads the rules and leaves them (no iptables-restore: their
// counters stay); with a foreign rule put above ours, or one of ours gone, the rules are written again.
describe('ipset start over rules in place', () => {
  const it = itReal({ root: true, commands: ['ip', 'nc', 'ipset', 'iptables-restore', 'ip6tables-restore'] });
  const fw = useFwLab(['ip', 'nc', 'ipset']);
  const NOW = 1_700_000_000_000;
  it('rules in place: not rewritten; moved or missing: rewritten; both families blocked throughout', async () => {
    const f = fw();
    const ran: string[] = [];
    const runner: Runner = (argv, o) => {
      ran.push(argv[0] ?? '');
      return f.runner(argv, o);
    };
    const make = () => {
      const s = specFromOptions('ipset', 'ip', { port: '0:65535', protocol: 'tcp' });
      if (!s.ok) throw new Error('spec');
      const b = createBackend(s.value, { clock: new ManualClock(NOW), runner });
      if (!b.ok) throw new Error('backend');
      return b.value;
    };
    const bans = [banOf(f.banned.v4, { now: NOW }), banOf(f.banned.v6, { now: NOW })];
    const restores = (): string[] => ran.filter((t) => t.endsWith('tables-restore'));
    const blocked = async (): Promise<void> => {
      expect(await f.canConnect(f.banned.v4)).toBe(false);
      expect(await f.canConnect(f.banned.v6)).toBe(false);
      expect(await f.canConnect(f.other.v4)).toBe(true);
    };
    expect(await make().start(bans)).toEqual({ ok: true });
    expect(restores().sort()).toEqual(['ip6tables-restore', 'iptables-restore']);
    await blocked();
    const saved = async (t: string): Promise<string[]> =>
      (await f.victim([t, '-t', 'filter'])).split('\n').filter((l) => l.startsWith('-A '));
    const before = await saved('iptables-save');
    ran.length = 0;
    expect(await make().start(bans)).toEqual({ ok: true });
    expect(restores()).toEqual([]);
    expect(await saved('iptables-save')).toEqual(before);
    await blocked();
    // A foreign rule above ours (IPv4), one of ours deleted (IPv6): both families rewritten, ours on top again.
    await f.victim(['iptables', '-w', '-I', 'INPUT', '1', '-p', 'udp', '--dport', '9', '-j', 'ACCEPT']);
    await f.victim(['ip6tables', '-w', '-D', 'INPUT', '1']);
    ran.length = 0;
    expect(await make().start(bans)).toEqual({ ok: true });
    expect(restores().sort()).toEqual(['ip6tables-restore', 'iptables-restore']);
    const v4 = await saved('iptables-save');
    expect(v4.slice(0, 2).every((l) => l.includes('--match-set sb-ip-'))).toBe(true);
    expect(v4.filter((l) => l.includes('--match-set sb-ip-'))).toHaveLength(2);
    expect((await saved('ip6tables-save')).filter((l) => l.includes('--match-set sb-ip-'))).toHaveLength(2);
    await blocked();
  }, 120000);
});

// banMany: one `ipset -exist restore` for the batch; an element there already takes the batch's timeout (as ban());
// a batch ipset refuses (our set destroyed by hand) fails as a whole, for the Repairer.
describe('ipset banMany: one restore a batch, timeouts refreshed, a refused batch failed', () => {
  const it = itReal({ root: true, commands: ['nc', 'ipset', 'iptables-restore', 'ip6tables-restore'] });
  const fw = useFwLab(['nc', 'ipset', 'iptables-restore', 'ip6tables-restore']);
  it('one process a batch; a re-ban refreshes the timeout; a missing set fails the batch', async () => {
    const f = fw();
    const NOW = Date.now();
    const calls: { argv: string[]; input: unknown }[] = [];
    const recording: Runner = (argv, opts) => {
      calls.push({ argv: [...argv], input: opts?.input });
      return f.runner(argv, opts);
    };
    const b = createBackend(spec.value, { clock: new ManualClock(NOW), runner: recording });
    if (!b.ok) throw new Error('backend');
    const be = b.value;
    expect(await be.start([])).toEqual({ ok: true });
    calls.length = 0;
    const fresh = [
      banOf(f.banned.v4, { now: NOW, jail: 'sshd', sec: 600 }),
      banOf(f.banned.v6, { now: NOW, jail: 'sshd', sec: 600 }),
      banOf('198.51.100.0/24', { now: NOW, jail: 'sshd', sec: 600 }),
    ];
    expect(await be.banMany!(fresh)).toEqual({ ok: true });
    expect(calls).toEqual([
      {
        argv: ['ipset', '-exist', 'restore'],
        input:
          `add sb-sshd-h4 ${f.banned.v4} timeout 600\nadd sb-sshd-h6 ${f.banned.v6} timeout 600\n` +
          'add sb-sshd-n4 198.51.100.0/24 timeout 600\n',
      },
    ]);
    expect(await f.canConnect(f.banned.v4)).toBe(false);
    expect(await f.canConnect(f.banned.v6)).toBe(false);
    expect(await f.canConnect(f.other.v4)).toBe(true);
    expect(await be.banMany!([banOf(f.banned.v4, { now: NOW, jail: 'sshd', sec: 3600 })])).toEqual({ ok: true });
    const saved = (await f.victim(['ipset', 'save', 'sb-sshd-h4'])).split('\n').filter((l) => l.startsWith('add '));
    expect(saved).toHaveLength(1);
    expect(Number(/timeout (\d+)/.exec(saved[0]!)?.[1])).toBeGreaterThan(3000);
    for (const t of ['iptables', 'ip6tables']) await f.victim([t, '-w', '-F']);
    await f.victim(['ipset', 'destroy', 'sb-sshd-h4']);
    const o = await be.banMany!([banOf(f.other.v4, { now: NOW, jail: 'sshd', sec: 600 })]);
    expect(o.ok).toBe(false);
    expect(!o.ok && o.failure.stderr).toMatch(/does not exist/);
  }, 60000);
});
