import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyInstall, applyUninstall, readManifest } from '../../../src/sentryban/install/apply.js';
import { collectBundle, MANIFEST_PATH, sha256 } from '../../../src/sentryban/install/bundle.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// The applier on real files under a temp root, with the package's own bundle: what was there before install
// (Debian's portsentry package, say) is neither replaced nor removed, not even by --purge.
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bundle = collectBundle(REPO, '/usr/local/bin');
let tmp: ReturnType<typeof makeTmpDir> | null = null;
afterEach(() => tmp?.cleanup());

const rooted = (): {
  root: string;
  put: (p: string, text: string) => void;
  lines: string[];
  say: (l: string) => void;
} => {
  tmp = makeTmpDir('install-apply-');
  const root = tmp.dir;
  const lines: string[] = [];
  return {
    root,
    put: (p, text) => {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      writeFileSync(join(root, p), text);
    },
    lines,
    say: (l) => void lines.push(l),
  };
};

describe('applyInstall and applyUninstall', () => {
  it("leaves Debian's portsentry files and folder alone, through install and uninstall --purge", () => {
    const { root, put, lines, say } = rooted();
    put('/etc/portsentry/portsentry.conf', 'debian\n');
    put('/etc/default/portsentry', 'TCP_MODE="tcp"\n');
    put('/var/lib/portsentry/portsentry.history', 'old probes\n');
    applyInstall(root, bundle, 'sentrytools@test', say);
    expect(lines).toContain('kept      /etc/portsentry/portsentry.conf (there before this install; left as it is)');
    expect(lines).toContain('created   /var/lib/sentryban/ (mode 0700)');
    expect(lines).not.toContain('created   /var/lib/portsentry/ (mode 0700)');
    expect(existsSync(join(root, '/etc/portsentry/portsentry.conf.dist'))).toBe(false);
    expect(Object.keys(readManifest(root)?.files ?? {})).not.toContain('/etc/portsentry/portsentry.conf');

    applyUninstall(root, true, say);
    expect(readFileSync(join(root, '/etc/portsentry/portsentry.conf'), 'utf8')).toBe('debian\n');
    expect(readFileSync(join(root, '/var/lib/portsentry/portsentry.history'), 'utf8')).toBe('old probes\n');
    expect(existsSync(join(root, '/var/lib/sentryban'))).toBe(false);
    expect(existsSync(join(root, '/etc/sentryban'))).toBe(false);
    expect(existsSync(join(root, '/etc/portsentry/portsentry.ignore'))).toBe(false); // ours: it was absent
  });

  it('an upgrade removes a file the older version shipped when untouched, keeps it when edited', () => {
    const { root, put, lines, say } = rooted();
    applyInstall(root, bundle, 'sentrytools@test', say);
    put('/etc/sentryban/jails/old.yaml', 'old: {}\n');
    put('/etc/sentryban/jails/older.yaml', 'edited\n');
    const m = readManifest(root)!;
    m.files['/etc/sentryban/jails/old.yaml'] = { sha256: sha256('old: {}\n') };
    m.files['/etc/sentryban/jails/older.yaml'] = { sha256: sha256('older: {}\n') };
    writeFileSync(join(root, MANIFEST_PATH), JSON.stringify(m));
    lines.length = 0;
    applyInstall(root, bundle, 'sentrytools@test', say);
    expect(lines).toContain('removed   /etc/sentryban/jails/old.yaml (no longer shipped)');
    expect(lines).toContain('kept      /etc/sentryban/jails/older.yaml (no longer shipped)');
    expect(existsSync(join(root, '/etc/sentryban/jails/older.yaml'))).toBe(true);
    expect(Object.keys(readManifest(root)!.files)).not.toContain('/etc/sentryban/jails/older.yaml');
  });

  it('a config folder that was there first keeps its files; ours go beside them as .dist', () => {
    const { root, put, lines, say } = rooted();
    put('/etc/sentryban/sentryban.yaml', 'state: /srv/bans\n');
    applyInstall(root, bundle, 'sentrytools@test', say);
    expect(lines).toContain(
      'kept      /etc/sentryban/sentryban.yaml (there before this install); ours is beside it: /etc/sentryban/sentryban.yaml.dist',
    );
    applyUninstall(root, false, say);
    expect(readFileSync(join(root, '/etc/sentryban/sentryban.yaml'), 'utf8')).toBe('state: /srv/bans\n');
    expect(existsSync(join(root, '/etc/sentryban/sentryban.yaml.dist'))).toBe(false);
    expect(existsSync(join(root, '/var/lib/sentryban'))).toBe(true); // state stays without --purge
  });
});
