import { Fields } from '../../src/sentryban/config/fields.js';
import { readJail } from '../../src/sentryban/config/jail-file.js';
import { compileJailFilter } from '../../src/sentryban/config/load.js';
import type { LoadedJail } from '../../src/sentryban/config/loaded.js';
import { parseYamlTree } from '../../src/sentryban/config/yaml-tree.js';

// One jail from its YAML (`name:\n  failregex: ...`), checked and compiled as the daemon's config loader does;
// `dir` is the folder its relative paths are read from.
export const loadJailYaml = (yaml: string, dir: string): LoadedJail => {
  const tree = parseYamlTree(yaml, 'jail.yaml');
  if (!tree.ok || tree.value?.kind !== 'map') throw new Error('bad yaml');
  const e = tree.value.entries[0];
  if (!e) throw new Error('no jail in the yaml');
  const f = new Fields();
  const spec = readJail(f, e.key, e.value, e.key, new Map());
  const filter = compileJailFilter(spec, dir);
  if (f.errors.length || !filter.ok) throw new Error('bad jail');
  return { spec, filter: filter.value, actions: [] };
};
