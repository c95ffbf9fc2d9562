import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Fields } from '../config/fields.js';
import { JAIL_KEYS, readJail } from '../config/jail-file.js';
import { readMain, type MainConfig } from '../config/main-file.js';
import { parseYamlTree } from '../config/yaml-tree.js';
import type { JailSources } from './layout-status.js';

// What the client takes from the config folder: where the socket is and, for `status JAIL`, where the jail
// reads from (fail2ban prints it; the daemon's reply does not carry it). Read as written, never checked here:
// the daemon checks its config, and a client must work beside a config it cannot fully load.
const readMainOf = (configDir: string): MainConfig => {
  const file = join(configDir, 'sentryban.yaml');
  let text: string | null = null;
  try {
    text = existsSync(file) ? readFileSync(file, 'utf8') : null;
  } catch {
    // unreadable: the defaults, as for a missing file
  }
  const tree = text === null ? null : parseYamlTree(text, file);
  return readMain(new Fields(), tree?.ok ? tree.value : null, configDir, JAIL_KEYS);
};

export const socketFor = (configDir: string): string => readMainOf(configDir).socket;

export const sourcesFor = (configDir: string, jail: string): JailSources => {
  const dir = join(configDir, 'jails');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n));
  } catch {
    return null;
  }
  for (const name of names.sort()) {
    const file = join(dir, name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const tree = parseYamlTree(text, file);
    if (!tree.ok || tree.value?.kind !== 'map') continue;
    const node = tree.value.entries.find((e) => e.key === jail)?.value;
    if (!node) continue;
    const spec = readJail(new Fields(), jail, node, jail, readMainOf(configDir).defaults);
    return spec.backend.kind === 'files'
      ? { kind: 'files', paths: spec.logpaths.map((l) => l.path) }
      : { kind: 'journal', matches: spec.journalmatch };
  }
  return null;
};
