import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectBundle } from '../install/bundle.js';
import { applyInstall, applyUninstall } from '../install/apply.js';

// `sentryban install [--root DIR] [--bindir DIR]` and `sentryban uninstall [--root DIR] [--purge]`: the units,
// /etc/sentryban, /etc/portsentry (when absent), the state folders, the logrotate snippet and /etc/default/portsentry
// (when absent); a file the administrator edited is never replaced nor removed. systemctl is never run: on a real
// root the command to run is printed.
export const INSTALL_USAGE = `usage: sentryban install [--root DIR] [--bindir DIR]
       sentryban uninstall [--root DIR] [--purge]
  --root DIR    install under DIR instead of / (systemctl is then not mentioned)
  --bindir DIR  where the units find portsentry and sentryban (default: the npm prefix's bin/ this runs from)
  --purge       uninstall also removes the state folders (bans, history) that install created`;

const PKG_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

// npm -g puts the package in PREFIX/lib/node_modules/NAME and its bins in PREFIX/bin; from a checkout, its bin/.
export const findBinDir = (pkgRoot: string): string => {
  const prefixBin = resolve(pkgRoot, '..', '..', '..', 'bin');
  return existsSync(join(prefixBin, 'sentryban')) ? prefixBin : join(pkgRoot, 'bin');
};

type Options = { root: string; bindir: string | null; purge: boolean };

const parse = (verb: 'install' | 'uninstall', argv: string[]): Options | string => {
  const o: Options = { root: '/', bindir: null, purge: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--root' || a === '--bindir') {
      const v = argv[++i];
      if (!v || !isAbsolute(v)) return `${a} needs an absolute path`;
      if (a === '--root' && !existsSync(v)) return `--root ${v}: no such folder`;
      if (a === '--root') o.root = resolve(v);
      else o.bindir = resolve(v);
    } else if (a === '--purge' && verb === 'uninstall') o.purge = true;
    else if (a === '--help' || a === '-h') return '';
    else return `unknown argument ${JSON.stringify(a)}`;
  }
  return o;
};

export const runInstall = async (verb: 'install' | 'uninstall', argv: string[]): Promise<number> => {
  const o = parse(verb, argv);
  if (typeof o === 'string') {
    (o ? process.stderr : process.stdout).write(`${o ? `sentryban ${verb}: ${o}\n` : ''}${INSTALL_USAGE}\n`);
    return o ? 64 : 0;
  }
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  if (o.root !== '/') say(`sentryban ${verb}: under ${o.root}`);
  try {
    if (verb === 'uninstall') {
      applyUninstall(o.root, o.purge, say);
      return 0;
    }
    const { name, version } = JSON.parse(readFileSync(join(PKG_ROOT, 'package.json'), 'utf8')) as Record<
      string,
      string
    >;
    const bundle = collectBundle(PKG_ROOT, o.bindir ?? findBinDir(PKG_ROOT));
    applyInstall(o.root, bundle, `${name}@${version}`, say);
    return 0;
  } catch (e) {
    // One line naming the path (EACCES, ENOSPC, a foreign manifest), never a stack trace; EX_CANTCREAT.
    process.stderr.write(`sentryban ${verb}: ${(e as Error).message}\n`);
    return 73;
  }
};
