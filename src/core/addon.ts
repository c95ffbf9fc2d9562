import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// The native addons, one per job, built from native/<name>.c by node-gyp at `npm ci` (binding.gyp; package.json
// "install") into build/Release/<name>.node. Each is loaded by one module named for it (native/<name>.h says
// which); none is required: without it the caller keeps a slower path with the same outcomes.
export type Loaded<T> = { addon: T | null; why: string };

// Same path from src/core (tests) and dist/core (the daemons): both sit two levels under the root.
export const addonPath = (name: string): string =>
  fileURLToPath(new URL(`../../build/Release/${name}.node`, import.meta.url));

// `why`: 'loaded', or why not (the first line of the loader's error).
export const loadAddon = <T>(name: string): Loaded<T> => {
  try {
    return { addon: createRequire(import.meta.url)(addonPath(name)) as T, why: 'loaded' };
  } catch (e) {
    return { addon: null, why: `${name}.node not built (${(e as Error).message.split('\n')[0]})` };
  }
};
