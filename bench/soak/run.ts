import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// `npm run soak [case ...]`: the reliability cases at full size (docs/reliability.md), each bench/soak/<case>.ts
// exporting main(args) and printing its figures; every case runs unless some are named. Exit 1 if one failed.
const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
// `npm run soak config-fuzz -- --minutes 2`: the names come first, every option after them goes to each case.
const split = argv.findIndex((a) => a.startsWith('--'));
const wanted = split < 0 ? argv : argv.slice(0, split);
const options = split < 0 ? [] : argv.slice(split);
const all = readdirSync(here)
  .filter((f) => f.endsWith('.js') && f !== 'run.js')
  .map((f) => f.slice(0, -3))
  .sort();
const names = wanted.length ? wanted : all;
let failed = 0;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`soak: no case named ${name} (have: ${all.join(', ')})`);
    failed++;
    continue;
  }
  console.log(`== ${name} (${new Date().toISOString()})`);
  try {
    const mod = (await import(pathToFileURL(join(here, `${name}.js`)).href)) as { main(args: string[]): Promise<void> };
    await mod.main(options);
  } catch (e) {
    console.error(`soak ${name} failed: ${String((e as Error)?.stack ?? e)}`);
    failed++;
  }
}
process.exitCode = failed ? 1 : 0;
