import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { formatDiagnostic } from '../../../src/core/diagnostics.js';
import { loadConfig } from '../../../src/sentryban/config/load.js';
import { newLineMatcher } from '../../../src/sentryban/daemon/line-matcher.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { writeConfig } from './run-daemon.js';

// The jail keys usedns, backend and journalmatch: read strictly, with file:line:col.
let dir = '';
let cleanup = (): void => {};
beforeAll(() => {
  ({ dir, cleanup } = makeTmpDir('sentryban-keys-'));
});
afterAll(() => cleanup());
const base = "  failregex: 'auth failure from <HOST>$'\n";

describe('usedns / backend / journalmatch jail keys', () => {
  it('loads them and shapes <HOST> by usedns', async () => {
    writeConfig(dir, {
      a: `dns:\n  logpath: x.log\n${base}  usedns: warn\nplain:\n  logpath: x.log\n${base}\njournal:\n  backend: systemd[journalpath=/tmp/j]\n  journalmatch: ['_COMM=sshd', '_COMM=sshd-session']\n${base}`,
    });
    const r = await loadConfig(dir);
    if (!r.ok) throw new Error(r.errors.map(formatDiagnostic).join('\n'));
    const [dns, plain, journal] = r.value.jails;
    const ids = (j: typeof dns, text: string): string[] =>
      newLineMatcher(j!.filter, () => Date.now())
        .match({ text, source: 'x' })
        .map((f) => f.id);
    expect(dns!.filter.usedns).toBe('warn');
    expect(ids(dns, 'auth failure from evil.example')).toEqual(['evil.example']); // resolved later, by the daemon
    expect(plain!.filter.usedns).toBe('no');
    expect(ids(plain, 'auth failure from evil.example')).toEqual([]);
    expect(ids(plain, 'auth failure from 192.0.2.1')).toEqual(['192.0.2.1']);
    expect(journal!.spec.backend).toEqual({ kind: 'systemd', options: { directory: '/tmp/j' } });
    expect(journal!.spec.journalmatch).toEqual(['_COMM=sshd', '_COMM=sshd-session']);
  });
  it('reads the resolver settings of sentryban.yaml', async () => {
    writeConfig(dir, { a: `x:\n  logpath: x.log\n${base}` }, 'dns:\n  ttl: 10m\n  timeout: 2\n  lookups: 3\n');
    const r = await loadConfig(dir);
    if (!r.ok) throw new Error(r.errors.map(formatDiagnostic).join('\n'));
    expect(r.value.main.dns).toEqual({
      maxEntries: 1000,
      ttlMs: 600_000,
      negativeTtlMs: 60_000,
      timeoutMs: 2000,
      maxInFlight: 3,
      maxQueued: 1000,
    });
    writeConfig(dir, { a: `x:\n  logpath: x.log\n${base}` }, 'dns:\n  timout: 2\n');
    const bad = await loadConfig(dir);
    expect(bad.ok ? [] : bad.errors.map((e) => formatDiagnostic(e).slice(dir.length + 1))).toEqual([
      expect.stringMatching(/^sentryban\.yaml:\d+:\d+: dns\.timout: unknown key "timout" \(did you mean "timeout"\?\)/),
    ]);
  });
  it('refuses bad values with their position', async () => {
    writeConfig(dir, {
      a: `x:\n  logpath: x.log\n${base}  usedns: maybe\n  backend: systemd[journalpth=/j]\ny:\n  logpath: x.log\n  backend: systemd\n${base}z:\n  backend: inotify\n${base}`,
    });
    const r = await loadConfig(dir);
    expect(r.ok ? [] : r.errors.map((e) => formatDiagnostic(e).slice(dir.length + 1))).toEqual([
      'jails/a.yaml:4:11: x.usedns: expected yes, warn, no or raw, got "maybe"',
      'jails/a.yaml:5:12: x.backend: unknown systemd backend option "journalpth" (known: journalpath, journalfiles, journalflags, namespace)',
      'jails/a.yaml:7:3: y.logpath: a journal jail (backend systemd) reads no logpath: remove one of them',
      'jails/a.yaml:11:3: z.logpath: a jail needs at least one logpath (or backend: systemd)',
      'jails/a.yaml:11:12: z.backend: unknown backend "inotify" (known: auto, polling, pyinotify, gamin, systemd[...])',
    ]);
  });
});
