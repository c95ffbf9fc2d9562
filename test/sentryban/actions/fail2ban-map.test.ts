import { describe, expect, it } from '@jest/globals';
import { formatDiagnostic } from '../../../src/core/diagnostics.js';
import { mapFail2banAction, STOCK_ACTION_NAMES } from '../../../src/sentryban/actions/fail2ban-map.js';
import { specFromOptions } from '../../../src/sentryban/actions/options.js';
import { createBackend } from '../../../src/sentryban/actions/factory.js';
import { ManualClock } from '../../../src/core/clock.js';

const value = <T>(r: { ok: true; value: T } | { ok: false; errors: unknown[] }): T => {
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
};

describe('fail2ban stock action names map to our backends', () => {
  it.each([
    [
      'iptables-multiport',
      { port: 'ssh', protocol: 'tcp', chain: 'INPUT' },
      {
        backend: 'iptables',
        jail: 'sshd',
        chain: 'sb-sshd',
        hooks: ['INPUT'],
        match: { ports: ['ssh'], protocols: ['tcp'] },
        blocktype: { kind: 'reject', with: { v4: 'icmp-port-unreachable', v6: 'icmp6-port-unreachable' } },
      },
    ],
    [
      'iptables-allports',
      { blocktype: 'DROP', chain: 'INPUT,FORWARD' },
      {
        backend: 'iptables',
        jail: 'sshd',
        chain: 'sb-sshd',
        hooks: ['INPUT', 'FORWARD'],
        match: { ports: 'all', protocols: ['tcp'] },
        blocktype: { kind: 'drop' },
      },
    ],
    [
      'iptables-ipset-proto6-allports',
      { protocol: 'tcp,udp' },
      {
        backend: 'ipset',
        jail: 'sshd',
        set: 'sb-sshd',
        hooks: ['INPUT'],
        match: { ports: 'all', protocols: ['tcp', 'udp'] },
        blocktype: { kind: 'reject', with: { v4: 'icmp-port-unreachable', v6: 'icmp6-port-unreachable' } },
        maxelem: 2097152,
      },
    ],
    [
      'nftables',
      { port: '22,1000:2000', blocktype: 'drop' },
      {
        backend: 'nftables',
        jail: 'sshd',
        table: 'sentryban-sshd',
        priority: -1,
        match: { ports: ['22', '1000:2000'], protocols: ['tcp'] },
        blocktype: { kind: 'drop' },
      },
    ],
    [
      'nftables-allports',
      {},
      {
        backend: 'nftables',
        jail: 'sshd',
        table: 'sentryban-sshd',
        priority: -1,
        match: { ports: 'all', protocols: ['tcp'] },
        blocktype: { kind: 'reject', with: { v4: 'icmp-port-unreachable', v6: 'icmp6-port-unreachable' } },
      },
    ],
    [
      'hostsdeny',
      { file: '/var/lib/sentryban/hosts.deny' },
      { backend: 'hostsdeny', jail: 'sshd', file: '/var/lib/sentryban/hosts.deny', daemonList: 'ALL' },
    ],
    ['route', { blocktype: 'blackhole' }, { backend: 'route', jail: 'sshd', type: 'blackhole', proto: 251 }],
  ])('%s %j', (name, params, spec) => {
    expect(value(mapFail2banAction(name, params, { jail: 'sshd' }))).toEqual(spec);
  });

  it('refuses an action we have no backend for, naming the way out', () => {
    const r = mapFail2banAction(
      'sendmail-whois',
      {},
      { jail: 'sshd', where: { file: 'jail.local', line: 12, path: 'sshd.action' } },
    );
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(formatDiagnostic(r.errors[0]!)).toMatch(
        /^jail\.local:12: sshd\.action: fail2ban action "sendmail-whois" has no sentryban backend.*actions\/sendmail-whois\.yaml/,
      );
  });

  it('maps a name that a loaded command action carries to the command backend', () => {
    expect(
      value(
        mapFail2banAction(
          'mail-whois',
          { dest: 'root', port: 'ssh' },
          { jail: 'sshd', commandActions: new Set(['mail-whois']) },
        ),
      ),
    ).toEqual({
      backend: 'command',
      jail: 'sshd',
      action: 'mail-whois',
      port: 'ssh',
      protocol: 'tcp',
      params: { dest: 'root' },
    });
  });

  it('knows the stock names the issue lists', () => {
    for (const n of [
      'iptables',
      'iptables-multiport',
      'iptables-allports',
      'iptables-ipset-proto6',
      'iptables-ipset-proto6-allports',
      'nftables',
      'nftables-multiport',
      'nftables-allports',
      'hostsdeny',
      'route',
    ]) {
      expect(STOCK_ACTION_NAMES).toContain(n);
    }
  });
});

describe('specFromOptions refuses bad options with a path and a hint', () => {
  it.each([
    ['iptables', { prot: 'tcp' }, /action\.prot: unknown option for iptables \(did you mean "port"\?\)/],
    ['iptables', { port: 'ssh;reboot' }, /action\.port: expected ports/],
    ['iptables', { port: '70000' }, /action\.port/],
    ['iptables', { blocktype: 'REJECT --reject-with icmp-bogus' }, /unknown reject reply "icmp-bogus"/],
    ['iptables', { name: 'a-very-long-chain-name-over-28-chars' }, /action\.name/],
    ['nftables', { port: '22', protocol: 'all' }, /listed ports need a protocol/],
    ['route', { blocktype: 'drop' }, /expected blackhole, unreachable or prohibit/],
    ['nftable', {}, /unknown action backend "nftable" \(did you mean "nftables"\?\)/],
    ['hostsdeny', { daemon_list: 'ALL: 1.2.3.4' }, /daemon_list/],
  ])('%s %j', (backend, opts, re) => {
    const r = specFromOptions(backend, 'sshd', opts);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map(formatDiagnostic).join('\n')).toMatch(re);
  });

  it('refuses a jail name that cannot name a firewall object', () => {
    expect(specFromOptions('nftables', 'ssh d;', {}).ok).toBe(false);
  });

  it('the factory builds a hosts.deny backend from a spec', () => {
    const spec = value(specFromOptions('hostsdeny', 'sshd', { file: '/tmp/x' }));
    expect(value(createBackend(spec, { clock: new ManualClock() })).name).toBe('hostsdeny:sshd');
  });
});
