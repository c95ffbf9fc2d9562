import { describe, expect, it } from '@jest/globals';
import {
  foldersToRemove,
  planInstall,
  planUninstall,
  type Manifest,
  type Wanted,
} from '../../../src/sentryban/install/plan.js';

// dpkg's conffile rules over hashes: pristine files are ours, edited or foreign ones are theirs.
const conf = (path: string, sha256: string, onlyIfAbsent = false): Wanted => ({
  path,
  sha256,
  mode: 0o644,
  onlyIfAbsent,
});
const manifest = (files: Record<string, string>): Manifest => ({
  version: 1,
  package: 'sentrytools@0.1.0',
  files: Object.fromEntries(Object.entries(files).map(([p, h]) => [p, { sha256: h }])),
  dirs: [],
  stateDirs: [],
});
const seen = (m: Record<string, string | null>): Map<string, string | null> => new Map(Object.entries(m));
const Y = '/etc/sentryban/sentryban.yaml';
const C = '/etc/portsentry/portsentry.conf';

describe('planInstall', () => {
  it('writes a file that is not there and records it', () => {
    const r = planInstall([conf(Y, 'new')], seen({}), null);
    expect(r.steps).toEqual([{ kind: 'write', path: Y, from: conf(Y, 'new'), why: 'new' }]);
    expect(r.files).toEqual({ [Y]: { sha256: 'new' } });
  });

  it('replaces a pristine file of ours with the new version (an upgrade)', () => {
    const r = planInstall([conf(Y, 'v2')], seen({ [Y]: 'v1' }), manifest({ [Y]: 'v1' }));
    expect(r.steps).toEqual([{ kind: 'write', path: Y, from: conf(Y, 'v2'), why: 'updated' }]);
    expect(r.files[Y]).toEqual({ sha256: 'v2' });
  });

  it('leaves a pristine file that already holds our content', () => {
    const r = planInstall([conf(Y, 'v1')], seen({ [Y]: 'v1' }), manifest({ [Y]: 'v1' }));
    expect(r.steps).toEqual([{ kind: 'same', path: Y }]);
  });

  it('keeps a file edited since install, writes ours beside it as .dist, and remembers the old hash', () => {
    const r = planInstall([conf(Y, 'v2')], seen({ [Y]: 'edited' }), manifest({ [Y]: 'v1' }));
    expect(r.steps).toEqual([
      { kind: 'keep', path: Y, why: 'edited' },
      { kind: 'dist', path: `${Y}.dist`, of: Y, from: conf(Y, 'v2') },
    ]);
    // Uninstall compares with v1, so the edit keeps the file; the .dist is ours.
    expect(r.files).toEqual({ [Y]: { sha256: 'v1' }, [`${Y}.dist`]: { sha256: 'v2' } });
  });

  it('does not write the .dist again when it already holds ours', () => {
    const r = planInstall([conf(Y, 'v1')], seen({ [Y]: 'edited', [`${Y}.dist`]: 'v1' }), manifest({ [Y]: 'v1' }));
    expect(r.steps).toEqual([{ kind: 'keep', path: Y, why: 'edited' }]);
  });

  it('never takes over a file that was there before: kept, ours beside it, not in the manifest', () => {
    const r = planInstall([conf(Y, 'ours')], seen({ [Y]: 'theirs' }), null);
    expect(r.steps.map((s) => s.kind)).toEqual(['keep', 'dist']);
    expect(Object.keys(r.files)).toEqual([`${Y}.dist`]);
  });

  it('leaves a foreign file alone without a .dist when the file is only written when absent', () => {
    const r = planInstall([conf(C, 'ours', true)], seen({ [C]: 'debian' }), null);
    expect(r.steps).toEqual([{ kind: 'keep', path: C, why: 'not ours' }]);
    expect(r.files).toEqual({});
  });

  it('removes a pristine file an older version shipped and this one does not; keeps an edited one', () => {
    const old = manifest({ [Y]: 'v1', '/etc/a': 'a1', '/etc/b': 'b1' });
    const r = planInstall([conf(Y, 'v1')], seen({ [Y]: 'v1', '/etc/a': 'a1', '/etc/b': 'edited' }), old);
    expect(r.obsolete).toEqual([
      { kind: 'remove', path: '/etc/a' },
      { kind: 'keep', path: '/etc/b', why: 'edited' },
    ]);
    expect(Object.keys(r.files)).toEqual([Y]);
  });
});

describe('planUninstall', () => {
  it('removes what still holds what we wrote, keeps what was edited, skips what is gone', () => {
    const m = manifest({ '/a': '1', '/b': '2', '/c': '3' });
    expect(planUninstall(m, seen({ '/a': '1', '/b': 'edited', '/c': null }))).toEqual([
      { kind: 'remove', path: '/a' },
      { kind: 'keep', path: '/b', why: 'edited' },
      { kind: 'gone', path: '/c' },
    ]);
  });

  it('orders folders deepest first', () => {
    expect(foldersToRemove(['/etc/sentryban', '/etc/sentryban/jails', '/var/lib', '/etc/sentryban'])).toEqual([
      '/etc/sentryban/jails',
      '/var/lib',
      '/etc/sentryban',
    ]);
  });
});
