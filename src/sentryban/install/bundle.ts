import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Wanted } from './plan.js';

// Where each thing goes on the target system. Units go to the administrator's own unit folder, the one systemd
// reads for software installed under /usr/local (as npm -g is): /etc/systemd/system stays free for the
// administrator's drop-ins (`systemctl edit`), and /lib/systemd/system belongs to dpkg.
export const PLACES = {
  units: '/usr/local/lib/systemd/system',
  config: '/etc/sentryban',
  listenerConfig: '/etc/portsentry',
  logrotate: '/etc/logrotate.d',
  defaults: '/etc/default',
  state: '/var/lib/sentryban',
  listenerState: '/var/lib/portsentry',
} as const;

// The record of what install wrote: in sentryban's state folder, so it lives as long as the state does.
export const MANIFEST_PATH = `${PLACES.state}/installed.json`;
export const STATE_DIRS = [PLACES.state, PLACES.listenerState] as const;

export type Bundled = Wanted & { content: Buffer };

// The bundled config is the quick start's (state under the project's state/ folder, `npm start`); on a system it
// is /var/lib/sentryban, and the portsentry jail follows the listener's history file in /var/lib/portsentry.
export const renderMainConfig = (text: string): string =>
  text.replace(
    /^state: .*$/m,
    `state: ${PLACES.state}             # the store, the control socket, the log and the hosts.deny file below`,
  );

export const renderJail = (text: string): string =>
  text.replaceAll('${SENTRYTOOLS_STATE:-state}/portsentry', PLACES.listenerState);

// portsentry.conf: the ignore file beside the config (as Debian's), history and blocked files in /var/lib/portsentry.
export const renderListenerConfig = (text: string): string =>
  text
    .replaceAll('/var/lib/sentrytools/portsentry.ignore', `${PLACES.listenerConfig}/portsentry.ignore`)
    .replaceAll('/var/lib/sentrytools', PLACES.listenerState);

// A unit's Exec*= lines name the binaries by absolute path; they point at the ones this install put on PATH.
// Its Documentation= pages point at the docs/ folder of the installed package (pkgRoot).
export const renderUnit = (text: string, binDir: string, pkgRoot: string): string =>
  text
    .replace(
      /^(Exec\w*=[-@:+!]*)(\/\S*\/)(sentryban|portsentry)(?=\s|$)/gm,
      (_m, head: string, _dir: string, bin: string) => `${head}${binDir}/${bin}`,
    )
    .replace(
      /^(Documentation=file:)\/\S*\/docs\/([\w.-]+\.md)$/gm,
      (_m, head: string, page: string) => `${head}${join(pkgRoot, 'docs', page)}`,
    );

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

const file = (path: string, content: string | Buffer, mode: number, onlyIfAbsent = false): Bundled => {
  const b = Buffer.from(content);
  return { path, content: b, sha256: sha256(b), mode, onlyIfAbsent };
};

const filesIn = (dir: string, pattern: RegExp): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isFile() && pattern.test(e.name))
        .map((e) => e.name)
        .sort()
    : [];

// Every file install puts in place, read from the package (pkgRoot) and rendered for the system.
export const collectBundle = (pkgRoot: string, binDir: string): Bundled[] => {
  const read = (...p: string[]): string => readFileSync(join(pkgRoot, ...p), 'utf8');
  const out: Bundled[] = [];
  for (const n of filesIn(join(pkgRoot, 'packaging', 'systemd'), /\.(service|socket|target|timer|path)$/))
    out.push(file(`${PLACES.units}/${n}`, renderUnit(read('packaging', 'systemd', n), binDir, pkgRoot), 0o644));
  out.push(file(`${PLACES.config}/sentryban.yaml`, renderMainConfig(read('sentryban.yaml')), 0o644));
  for (const n of filesIn(join(pkgRoot, 'jails'), /\.ya?ml$/))
    out.push(file(`${PLACES.config}/jails/${n}`, renderJail(read('jails', n)), 0o644));
  for (const sub of ['filters', 'actions'])
    for (const n of filesIn(join(pkgRoot, sub), /\.ya?ml$/))
      out.push(file(`${PLACES.config}/${sub}/${n}`, read(sub, n), 0o644));
  const conf = renderListenerConfig(read('config', 'portsentry.conf'));
  out.push(file(`${PLACES.listenerConfig}/portsentry.conf`, conf, 0o644, true));
  out.push(file(`${PLACES.listenerConfig}/portsentry.ignore`, read('config', 'portsentry.ignore'), 0o644, true));
  if (existsSync(join(pkgRoot, 'packaging', 'logrotate', 'sentryban')))
    out.push(file(`${PLACES.logrotate}/sentryban`, read('packaging', 'logrotate', 'sentryban'), 0o644));
  if (existsSync(join(pkgRoot, 'packaging', 'default', 'portsentry')))
    out.push(file(`${PLACES.defaults}/portsentry`, read('packaging', 'default', 'portsentry'), 0o644, true));
  return out;
};

// The units to enable: every unit but templates (name@.service needs an instance, which its target pulls in).
export const unitsToEnable = (bundle: readonly Bundled[]): string[] =>
  bundle
    .filter((b) => b.path.startsWith(`${PLACES.units}/`) && !b.path.includes('@.'))
    .map((b) => b.path.slice(PLACES.units.length + 1));
