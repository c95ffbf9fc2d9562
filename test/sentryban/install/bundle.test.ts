import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/sentryban/config/load.js';
import {
  collectBundle,
  renderJail,
  renderListenerConfig,
  renderMainConfig,
  renderUnit,
  unitsToEnable,
  type Bundled,
} from '../../../src/sentryban/install/bundle.js';
import { parseConf } from '../../../src/portsentry/conf.js';
import { applyInstall } from '../../../src/sentryban/install/apply.js';
import { makeTmpDir } from '../../helpers/tmp.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const read = (...p: string[]): string => readFileSync(join(ROOT, ...p), 'utf8');

// The bundled config is the quick start's; install renders it for a system. The rendered files must load.
describe('install bundle', () => {
  it('puts sentryban state in /var/lib/sentryban and the portsentry jail on /var/lib/portsentry', () => {
    const main = renderMainConfig(read('sentryban.yaml'));
    expect(main).toMatch(/^state: \/var\/lib\/sentryban /m);
    expect(main).not.toContain('SENTRYTOOLS_STATE:-state}/sentryban');
    expect(renderJail(read('jails', 'portsentry.yaml'))).toMatch(
      /logpath: \/var\/lib\/portsentry\/portsentry\.history$/m,
    );
  });

  it('renders a portsentry.conf with Debian-like paths that our conf parser reads', () => {
    const conf = renderListenerConfig(read('config', 'portsentry.conf'));
    expect(conf).not.toContain('/var/lib/sentrytools');
    expect(conf).toContain('IGNORE_FILE="/etc/portsentry/portsentry.ignore"');
    expect(conf).toContain('HISTORY_FILE="/var/lib/portsentry/portsentry.history"');
  });

  it('points every Exec line of a unit at the bin folder given, whatever path the unit had', () => {
    const unit = [
      '[Service]',
      'ExecStart=/usr/local/bin/sentryban daemon --foreground',
      'ExecReload=/usr/bin/sentryban reload',
      'ExecStartPre=-/usr/local/bin/portsentry --check',
      'ExecStop=/bin/kill $MAINPID',
      'Description=/usr/bin/sentryban is not an Exec line',
      'Documentation=file:/usr/local/lib/node_modules/sentrytools/docs/sentryban.md',
      'Documentation=man:sentryban(8)',
    ].join('\n');
    expect(renderUnit(unit, '/opt/x/bin', '/opt/x/lib/node_modules/sentrytools').split('\n')).toEqual([
      '[Service]',
      'ExecStart=/opt/x/bin/sentryban daemon --foreground',
      'ExecReload=/opt/x/bin/sentryban reload',
      'ExecStartPre=-/opt/x/bin/portsentry --check',
      'ExecStop=/bin/kill $MAINPID',
      'Description=/usr/bin/sentryban is not an Exec line',
      'Documentation=file:/opt/x/lib/node_modules/sentrytools/docs/sentryban.md',
      'Documentation=man:sentryban(8)',
    ]);
  });

  it('writes a config folder that sentryban loads without an error', async () => {
    const t = makeTmpDir('install-bundle-');
    try {
      const bundle = collectBundle(ROOT, '/usr/local/bin');
      applyInstall(t.dir, bundle, 'sentrytools@test', () => {});
      const loaded = await loadConfig(join(t.dir, 'etc', 'sentryban'));
      expect(loaded.ok ? [] : loaded.errors).toEqual([]);
      if (loaded.ok) expect(loaded.value.main.stateDir).toBe('/var/lib/sentryban');
      const file = join(t.dir, 'etc', 'portsentry', 'portsentry.conf');
      const conf = parseConf(readFileSync(file, 'utf8'), file);
      expect(conf.errors).toEqual([]);
      expect(conf.warnings).toEqual([]);
    } finally {
      t.cleanup();
    }
  });

  it('enables every unit but templates (their instances come with the target that wants them)', () => {
    const unit = (n: string): Bundled => ({
      path: `/usr/local/lib/systemd/system/${n}`,
      content: Buffer.from(''),
      sha256: '',
      mode: 0o644,
      onlyIfAbsent: false,
    });
    const conf = { ...unit('x'), path: '/etc/sentryban/sentryban.yaml' };
    const units = ['sentryban.service', 'portsentry@.service', 'portsentry.target'].map(unit);
    expect(unitsToEnable([...units, conf])).toEqual(['sentryban.service', 'portsentry.target']);
  });
});
