import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Fields } from '../config/fields.js';
import { JAIL_KEYS } from '../config/jail-file.js';
import { readMain, type MainConfig } from '../config/main-file.js';
import { parseYamlTree } from '../config/yaml-tree.js';

// What the client takes from the config folder: where the socket is. Read as written, never checked here: the
// daemon checks its config, and a client must work beside a config it cannot fully load.
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
