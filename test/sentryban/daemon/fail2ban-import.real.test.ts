import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic } from '../../../src/core/diagnostics.js';
import { loadConfig } from '../../../src/sentryban/config/load.js';
import { newLineMatcher } from '../../../src/sentryban/daemon/line-matcher.js';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { writeConfig } from './run-daemon.js';

// Pairing with fail2ban: the enabled jails of a real fail2ban configuration (Debian's /etc/fail2ban, copied to
// a temp folder and given a jail.local), their stock filters read unchanged, stock banactions mapped.
const it = itReal({ commands: ['fail2ban-server'] });
let dir = '';
let cleanup = (): void => {};
beforeAll(() => {
  const t = makeTmpDir('sentryban-f2b-');
  dir = t.dir;
  cleanup = t.cleanup;
  cpSync('/etc/fail2ban', join(dir, 'fail2ban'), { recursive: true });
  writeFileSync(join(dir, 'auth.log'), '');
  writeFileSync(join(dir, 'portsentry.history'), '');
  writeConfig(join(dir, 'ours'), {});
});
afterAll(() => cleanup());
const jailLocal = (text: string): void => {
  writeFileSync(join(dir, 'fail2ban', 'jail.local'), text);
};

describe('--fail2ban-config', () => {
  it('runs the enabled jails with their filters, settings and mapped banactions', async () => {
    jailLocal(
      [
        '[DEFAULT]',
        'bantime = 1h',
        'banaction = iptables-multiport',
        'bantime.increment = true',
        'bantime.factor = 2',
        '',
        '[sshd]',
        'enabled = true',
        'backend = polling',
        `logpath = ${dir}/auth.log`,
        'maxretry = 3',
        'ignoreip = 127.0.0.1/8 192.0.2.0/24',
        '',
        '[portsentry]',
        'enabled = true',
        `logpath = ${dir}/portsentry.history`,
        `action = hostsdeny[file="${dir}/hosts.deny"]`,
        '',
      ].join('\n'),
    );
    const r = await loadConfig(join(dir, 'ours'), {
      fail2banConfig: join(dir, 'fail2ban'),
      fail2banDir: join(dir, 'fail2ban'),
    });
    if (!r.ok) throw new Error(r.errors.map(formatDiagnostic).join('\n'));
    const [sshd, ps] = r.value.jails;
    expect(sshd!.spec.config).toMatchObject({
      name: 'sshd',
      maxretry: 3,
      bantimeSec: 3600,
      findtimeSec: 600,
      port: 'ssh',
    });
    expect(sshd!.spec.config.increment).toMatchObject({ factor: 2 });
    expect(sshd!.spec.config.ignore.cidrs.map((c) => c.text)).toEqual(['127.0.0.0/8', '192.0.2.0/24']);
    expect(sshd!.actions).toEqual([
      expect.objectContaining({ backend: 'iptables', jail: 'sshd', match: { ports: ['ssh'], protocols: ['tcp'] } }),
    ]);
    expect(ps!.spec.config.maxretry).toBe(1);
    expect(ps!.actions).toEqual([
      { backend: 'hostsdeny', jail: 'portsentry', file: `${dir}/hosts.deny`, daemonList: 'ALL' },
    ]);
    // the stock filters, read unchanged, match their own sample lines
    const line = 'Jan 10 12:00:00 host sshd[1234]: Failed password for root from 203.0.113.9 port 2222 ssh2';
    expect(
      newLineMatcher(sshd!.filter, () => Date.now())
        .match({ text: line, source: 'x' })
        .map((f) => f.id),
    ).toEqual(['203.0.113.9']);
    const hist = '1106513999 - 01/24/2005 04:59:59 Host: 203.0.113.7/203.0.113.7 Port: 80 TCP Blocked';
    expect(
      newLineMatcher(ps!.filter, () => Date.now())
        .match({ text: hist, source: 'x' })
        .map((f) => [f.id, f.time]),
    ).toEqual([['203.0.113.7', 1106513999000]]);
  });
  it("a jail-level failregex replaces the filter's; extending it with %(known/failregex)s is refused by name", async () => {
    jailLocal(
      [
        '[sshd]',
        'enabled = true',
        'backend = polling',
        `logpath = ${dir}/auth.log`,
        'failregex = ^bad login from <HOST>$',
        '',
      ].join('\n'),
    );
    const r = await loadConfig(join(dir, 'ours'), {
      fail2banConfig: join(dir, 'fail2ban'),
      fail2banDir: join(dir, 'fail2ban'),
    });
    if (!r.ok) throw new Error(r.errors.map(formatDiagnostic).join('\n'));
    const m = newLineMatcher(r.value.jails[0]!.filter, () => Date.now());
    expect(
      m.match({ text: 'Jan 10 12:00:00 host sshd[1]: bad login from 203.0.113.4', source: 'x' }).map((f) => f.id),
    ).toEqual(['203.0.113.4']);
    expect(
      m.match({
        text: 'Jan 10 12:00:00 host sshd[1]: Failed password for root from 203.0.113.9 port 2222 ssh2',
        source: 'x',
      }),
    ).toEqual([]);
    jailLocal(
      [
        '[sshd]',
        'enabled = true',
        'backend = polling',
        `logpath = ${dir}/auth.log`,
        'failregex = %(known/failregex)s',
        '            ^extra <HOST>$',
        '',
      ].join('\n'),
    );
    const refused = await loadConfig(join(dir, 'ours'), {
      fail2banConfig: join(dir, 'fail2ban'),
      fail2banDir: join(dir, 'fail2ban'),
    });
    expect(refused.ok).toBe(false);
    expect(refused.ok ? '' : refused.errors.map(formatDiagnostic).join('\n')).toMatch(
      /jail\.local:\d+: sshd\.failregex: a jail-level failregex that extends/,
    );
  });
  it('imports a journal jail: backend systemd[...], the stock journalmatch, logtype journal, usedns from jail.conf', async () => {
    jailLocal(['[sshd]', 'enabled = true', `backend = systemd[journalpath=${dir}]`, ''].join('\n'));
    const r = await loadConfig(join(dir, 'ours'), {
      fail2banConfig: join(dir, 'fail2ban'),
      fail2banDir: join(dir, 'fail2ban'),
    });
    if (!r.ok) throw new Error(r.errors.map(formatDiagnostic).join('\n'));
    const j = r.value.jails[0]!;
    expect(j.spec.backend).toEqual({ kind: 'systemd', options: { directory: dir } });
    expect(j.spec.logpaths).toEqual([]);
    expect(j.filter.journalmatch.join(' ')).toContain('_SYSTEMD_UNIT=sshd.service');
    expect(j.filter.usedns).toBe('warn'); // jail.conf's [DEFAULT] usedns = warn
    // logtype journal: the line fail2ban builds from an entry (no syslog date), on the entry's own time
    const m = newLineMatcher(j.filter, () => Date.now());
    expect(
      m
        .match({
          text: 'vm sshd[42]: Failed password for root from 203.0.113.9 port 2222 ssh2',
          source: 'journal:sshd',
          entryTime: 1795579519000,
        })
        .map((f) => [f.id, f.time]),
    ).toEqual([['203.0.113.9', 1795579519000]]);
  });
  it('refuses by name what it cannot map', async () => {
    jailLocal(
      [
        '[sshd]',
        'enabled = true',
        'backend = systemd[journalflags=2]',
        '',
        '[recidive]',
        'enabled = true',
        `logpath = ${dir}/auth.log`,
        'action = %(action_mwl)s',
        '',
      ].join('\n'),
    );
    const r = await loadConfig(join(dir, 'ours'), {
      fail2banConfig: join(dir, 'fail2ban'),
      fail2banDir: join(dir, 'fail2ban'),
    });
    expect(r.ok).toBe(false);
    const text = r.ok ? '' : r.errors.map(formatDiagnostic).join('\n');
    expect(text).toContain(
      'sshd.backend: journalflags 2: only LOCAL_ONLY (1), SYSTEM (4) and CURRENT_USER (8) map to journalctl options',
    );
    expect(text).toMatch(/recidive\.action: fail2ban action "sendmail-whois-lines" has no sentryban backend/);
  });
});
