import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// Runs every <dir>/<name>.js but run.js (or only the named ones), each exporting main(args), one after another.
// The names come first; every option after them (`npm run soak config-fuzz -- --minutes 2`) goes to each script.
// Sets the exit code to 1 when one is unknown or fails.
export const runScripts = async (dir: string, argv: string[], what: string): Promise<void> => {
  const split = argv.findIndex((a) => a.startsWith('--'));
  const wanted = split < 0 ? argv : argv.slice(0, split);
  const options = split < 0 ? [] : argv.slice(split);
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.js') && f !== 'run.js')
    .map((f) => f.slice(0, -3))
    .sort();
  let failed = 0;
  for (const name of wanted.length ? wanted : all) {
    if (!all.includes(name)) {
      console.error(`${what}: none named ${name} (have: ${all.join(', ')})`);
      failed++;
      continue;
    }
    console.log(`== ${name} (${new Date().toISOString()})`);
    try {
      const mod = (await import(pathToFileURL(join(dir, `${name}.js`)).href)) as {
        main(args: string[]): Promise<void>;
      };
      await mod.main(options);
    } catch (e) {
      console.error(`${what} ${name} failed: ${String((e as Error)?.stack ?? e)}`);
      failed++;
    }
  }
  process.exitCode = failed ? 1 : 0;
};
