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
