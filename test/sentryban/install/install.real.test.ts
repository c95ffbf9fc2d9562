import { afterAll, describe, expect } from '@jest/globals';
import { execa, type ResultPromise } from 'execa';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLockRegistry } from '../../helpers/lock-registry.js';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

// The whole install path, as a user takes it: `npm pack` (its prepack builds dist/), `npm install -g` of the
// tarball into a fresh prefix (native addons built at install), both binaries run from that prefix, then
// `sentryban install --root` into a temp folder standing in for /, a daemon started on the installed config, an
// edited config file kept over a second install, and `sentryban uninstall --purge` removing only what is ours.
// npm reaches no host but 127.0.0.1: dependencies' metadata from a loopback registry made from package-lock.json,
// tarballs from npm's cache (filled by `npm ci`), and any other fetch sent to a proxy that is not there.
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const real = itReal({ commands: ['npm', 'make', 'g++', 'python3'] });
const tmp = makeTmpDir('install-real-');
afterAll(() => tmp.cleanup());

// The package's own files and what its prepack build needs; node_modules is shared with the checkout.
const copyRepo = (to: string): void => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { files: string[] };
  const extra = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'README.md'];
  // Not dist/: only the package's prepack step may build it.
  for (const f of [...pkg.files.filter((f) => f !== 'dist'), ...extra])
    if (existsSync(join(REPO, f))) cpSync(join(REPO, f), join(to, f), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(to, 'node_modules'));
  // The units are written elsewhere in the project; with none yet, a placeholder stands in for them.
  const units = join(to, 'packaging', 'systemd');
  mkdirSync(units, { recursive: true });
  if (!readdirSync(units).some((n) => n.endsWith('.service')))
    writeFileSync(
      join(units, 'sentryban-placeholder.service'),
      '[Service]\nExecStart=/usr/local/bin/sentryban daemon --foreground\nExecReload=/usr/local/bin/sentryban reload\n',
    );
};

const npmEnv = { npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr', npm_config_update_notifier: 'false' };

const filesUnder = (dir: string, base = dir): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), base) : [join(dir, e.name).slice(base.length)],
  );

describe('install from the packed tarball', () => {
  real(
    'packs, installs into a fresh prefix and root, runs both binaries, keeps an edit, uninstalls only ours',
    async () => {
      const src = join(tmp.dir, 'src');
      const prefix = join(tmp.dir, 'prefix');
      const root = join(tmp.dir, 'root');
      mkdirSync(src);
      mkdirSync(root);
      copyRepo(src);

      const packed = await execa('npm', ['pack', '--pack-destination', tmp.dir], { cwd: src, env: npmEnv });
      const tarball = join(tmp.dir, packed.stdout.trim().split('\n').pop() as string);
      const listing = (await execa('tar', ['tzf', tarball])).stdout.split('\n');
      expect(listing).toEqual(
        expect.arrayContaining(['package/dist/sentryban/main.js', 'package/sentryban.yaml', 'package/binding.gyp']),
      );
      expect(listing.some((f) => f.startsWith('package/packaging/systemd/'))).toBe(true);
      expect(listing.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toBe(false);

      const registry = await startLockRegistry(join(REPO, 'package-lock.json'));
      try {
        const nowhere = 'http://127.0.0.1:9/';
        await execa(
          'npm',
          [
            'install',
            '-g',
            '--prefix',
            prefix,
            '--prefer-offline',
            '--registry',
            registry.url,
            '--proxy',
            nowhere,
            '--https-proxy',
            nowhere,
            '--noproxy',
            '127.0.0.1',
            '--no-audit',
            '--no-fund',
            '--fetch-retries',
            '0',
            tarball,
          ],
          { cwd: tmp.dir, env: npmEnv },
        );
      } finally {
        await registry.close();
      }
      expect(registry.missed).toEqual([]);

      const bin = join(prefix, 'bin');
      const pkg = join(prefix, 'lib', 'node_modules', 'sentrytools');
      expect(existsSync(join(pkg, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).toBe(
        true,
      );
      const help = await execa(join(bin, 'sentryban'), ['--help']);
      expect(help.stdout).toMatch(/^usage: sentryban <command>/);
      expect(help.stdout).toContain('install [--root DIR]');
      const usage = await execa(join(bin, 'portsentry'), [], { reject: false });
      expect(usage.stdout).toContain('usage: portsentry [-tcp -udp -stcp -atcp -sudp -audp]');
      const probe = `${Math.floor(Date.now() / 1000)} - 12/07/2026 04:05:19 Host: 198.51.100.23/198.51.100.23 Port: 1 TCP Blocked`;
      const regex = await execa(join(bin, 'sentryban'), ['regex', '--json', probe, 'portsentry']);
      expect(JSON.parse(regex.stdout)).toMatchObject({ matched: true, address: '198.51.100.23' });

      // Into the temp root, with the units pointing at this prefix's binaries.
      const first = await execa(join(bin, 'sentryban'), ['install', '--root', root]);
      expect(first.stdout).toContain('installed /etc/sentryban/sentryban.yaml');
      expect(first.stdout).not.toContain('systemctl'); // never with --root
      for (const d of ['var/lib/sentryban', 'var/lib/portsentry'])
        expect(statSync(join(root, d)).mode & 0o777).toBe(0o700);
      const unitDir = join(root, 'usr/local/lib/systemd/system');
      for (const u of readdirSync(join(src, 'packaging', 'systemd')).filter((n) => /\.(service|target)$/.test(n))) {
        const text = readFileSync(join(unitDir, u), 'utf8');
        for (const line of text.split('\n').filter((l) => /^Exec\w*=.*\/(sentryban|portsentry)\b/.test(l)))
          expect(line).toMatch(new RegExp(`^Exec\\w*=[-@:+!]*${bin}/(sentryban|portsentry)( |$)`));
      }
      const placed: [string, string][] = [
        ['logrotate/sentryban', 'etc/logrotate.d/sentryban'],
        ['default/portsentry', 'etc/default/portsentry'],
      ];
      for (const [from, to] of placed)
        if (existsSync(join(src, 'packaging', from))) expect(existsSync(join(root, to))).toBe(true);
      expect(readFileSync(join(root, 'etc/portsentry/portsentry.conf'), 'utf8')).toContain('/var/lib/portsentry/');

      // The administrator's edits: state and the listener's history inside the temp root.
      const mainYaml = join(root, 'etc/sentryban/sentryban.yaml');
      const jailYaml = join(root, 'etc/sentryban/jails/portsentry.yaml');
      const history = join(root, 'var/lib/portsentry/portsentry.history');
      writeFileSync(
        mainYaml,
        readFileSync(mainYaml, 'utf8').replace(/^state: \S+/m, `state: ${root}/var/lib/sentryban`),
      );
      writeFileSync(jailYaml, readFileSync(jailYaml, 'utf8').replace(/^(\s*logpath: )\S+/m, `$1${history}`));
      const edited = readFileSync(mainYaml, 'utf8');
      const again = await execa(join(bin, 'sentryban'), ['install', '--root', root]);
      expect(again.stdout).toContain(
        'kept      /etc/sentryban/sentryban.yaml (edited since install); ours is beside it: /etc/sentryban/sentryban.yaml.dist',
      );
      expect(again.stdout).toContain('unchanged /etc/sentryban/filters/portsentry.yaml');
      expect(readFileSync(mainYaml, 'utf8')).toBe(edited);
      expect(readFileSync(`${mainYaml}.dist`, 'utf8')).toMatch(/^state: \/var\/lib\/sentryban /m);

      // The daemon on the installed config: a history line becomes a ban in the state folder's hosts.deny.
      writeFileSync(history, '');
      const config = join(root, 'etc/sentryban');
      const daemon: ResultPromise = execa(join(bin, 'sentryban'), ['daemon', '--foreground', '--config', config], {
        reject: false,
        all: true,
      });
      try {
        await waitFor(
          async () =>
            (await execa(join(bin, 'sentryban'), ['status', '--config', config], { reject: false })).exitCode === 0,
          { timeoutMs: 20_000, what: 'the installed daemon answering status' },
        );
        appendFileSync(history, `${probe}\n`);
        const deny = join(root, 'var/lib/sentryban/hosts.deny');
        await waitFor(() => existsSync(deny) && readFileSync(deny, 'utf8').includes('198.51.100.23'), {
          timeoutMs: 15_000,
          what: 'the ban in hosts.deny',
        });
      } finally {
        daemon.kill('SIGTERM');
        await daemon;
      }

      const gone = await execa(join(bin, 'sentryban'), ['uninstall', '--root', root, '--purge']);
      expect(gone.stdout).toContain('kept      /etc/sentryban/sentryban.yaml (edited since install; yours to remove)');
      expect(gone.stdout).toContain('removed   /etc/sentryban/sentryban.yaml.dist');
      expect(gone.stdout).toContain('purged    /var/lib/sentryban/');
      expect(filesUnder(root).sort()).toEqual([
        '/etc/sentryban/jails/portsentry.yaml',
        '/etc/sentryban/sentryban.yaml',
      ]);
    },
    600_000,
  );
});
