import { afterAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { itReal } from '../helpers/real.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { all, execLine, one, readUnit, words } from '../helpers/unit-file.js';

// The units in packaging/systemd: what they say, `systemd-analyze verify` clean, and an exposure score below 3.0
// ("OK") from `systemd-analyze security --offline=yes`, for each.
// verify checks that every Exec*= binary exists and is executable. The units name /usr/local/bin (npm's global
// prefix on Debian), which this machine has not installed: the check runs on copies in a temp folder where
// /usr/local/bin/ is replaced by this checkout's bin/ (the same scripts `npm install -g` links), so verify still
// proves the binaries the units start exist and run. Nothing else in the copies changes.
const UNITS = fileURLToPath(new URL('../../packaging/systemd/', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/', import.meta.url));
const real = itReal({ commands: ['systemd-analyze'] });
const { dir, cleanup } = makeTmpDir('units-');
afterAll(() => cleanup());

const unitNames = readdirSync(UNITS).sort();
const copy = (name: string, edit: (t: string) => string = (t) => t): string => {
  const to = join(dir, name);
  writeFileSync(to, edit(readFileSync(join(UNITS, name), 'utf8').replaceAll('/usr/local/bin/', BIN)));
  return to;
};
const verify = async (paths: string[]): Promise<{ code: number | undefined; out: string }> => {
  const r = await execa('systemd-analyze', ['verify', '--man=no', ...paths], { reject: false, all: true });
  return { code: r.exitCode, out: String(r.all) };
};
const exposure = async (path: string): Promise<number> => {
  const r = await execa('systemd-analyze', ['security', '--offline=yes', '--no-pager', path], { reject: false });
  const m = /Overall exposure level for \S+: (\d+\.\d+) /.exec(String(r.stdout));
  if (!m) throw new Error(`no exposure level in:\n${String(r.stdout)}\n${String(r.stderr)}`);
  return Number(m[1]);
};

describe('packaging/systemd', () => {
  it('has the portsentry template and target, and sentryban.service', () => {
    expect(unitNames).toEqual(['portsentry.target', 'portsentry@.service', 'sentryban.service']);
  });

  it("starts both listeners as Debian's init script: one per protocol, the mode from /etc/default/portsentry", () => {
    const t = readUnit(join(UNITS, 'portsentry.target'));
    expect(words(t, 'Unit', 'Wants')).toEqual(['portsentry@tcp.service', 'portsentry@udp.service']);
    const p = readUnit(join(UNITS, 'portsentry@.service'));
    expect(execLine(one(p, 'Service', 'ExecStart') ?? '', 'udp').argv).toEqual([
      '/usr/local/bin/portsentry',
      '--foreground',
      '--mode-from',
      '/etc/default/portsentry',
      'udp',
    ]);
    expect(one(p, 'Unit', 'PartOf')).toBe('portsentry.target');
    expect(words(p, 'Service', 'CapabilityBoundingSet').sort()).toEqual([
      'CAP_NET_ADMIN',
      'CAP_NET_BIND_SERVICE',
      'CAP_NET_RAW',
    ]);
  });

  it('runs sentryban as Type=notify with ExecReload the reload verb, with CAP_NET_ADMIN and CAP_DAC_READ_SEARCH', () => {
    const s = readUnit(join(UNITS, 'sentryban.service'));
    expect(one(s, 'Service', 'Type')).toBe('notify');
    expect(execLine(one(s, 'Service', 'ExecReload') ?? '').argv.slice(1)).toEqual([
      'reload',
      '--config',
      '/etc/sentryban',
    ]);
    expect(words(s, 'Service', 'CapabilityBoundingSet')).toEqual(['CAP_NET_ADMIN', 'CAP_DAC_READ_SEARCH']);
    expect(all(s, 'Service', 'AmbientCapabilities')).toEqual([]);
  });

  real('systemd-analyze verify: no warning for any unit (the binaries from this checkout)', async () => {
    const r = await verify(unitNames.map((n) => copy(n)));
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });

  real('systemd-analyze verify does speak: a misspelt key and a missing binary are reported', async () => {
    const bad = copy('sentryban.service', (t) =>
      t.replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes').replace(`${BIN}sentryban daemon`, `${BIN}nope daemon`),
    );
    const r = await verify([bad]);
    expect(r.out).toContain("Unknown key 'NoNewPrivilege' in section [Service]");
    expect(r.out).toContain(`Command ${BIN}nope is not executable`);
  });

  real('systemd-analyze security --offline=yes: every service below 3.0 ("OK")', async () => {
    const scores: Record<string, number> = {};
    for (const n of unitNames.filter((u) => u.endsWith('.service'))) scores[n] = await exposure(copy(n));
    process.stdout.write(`exposure: ${JSON.stringify(scores)}\n`);
    for (const s of Object.values(scores)) expect(s).toBeLessThan(3.0);
    // The score reacts to the hardening: without it the same unit is far above 3.0.
    const bare = copy('sentryban.service', (t) =>
      t.replace(/^(NoNewPrivileges|Protect|Private|Restrict|System|Capab).*$/gm, ''),
    );
    expect(await exposure(bare)).toBeGreaterThan(5);
  });
});
