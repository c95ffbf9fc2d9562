import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// `npm run bench [name ...]`: runs every bench/<figure>.ts (or the named ones). Each exports main(args).
const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(here)
  .filter((f) => f.endsWith('.js') && f !== 'run.js')
  .map((f) => f.slice(0, -3))
  .sort();
const names = wanted.length ? wanted : all;
let failed = 0;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`bench: no bench named ${name} (have: ${all.join(', ')})`);
    failed++;
    continue;
  }
  console.log(`== ${name}`);
  try {
    const mod = (await import(pathToFileURL(join(here, `${name}.js`)).href)) as { main(args: string[]): Promise<void> };
    await mod.main([]);
  } catch (e) {
    console.error(`bench ${name} failed: ${String((e as Error)?.stack ?? e)}`);
    failed++;
  }
}
process.exitCode = failed ? 1 : 0;
