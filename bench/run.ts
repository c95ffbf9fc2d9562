import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScripts } from './lib/run-scripts.js';

// `npm run bench [name ...] [-- options]`: runs every bench/<figure>.ts (or the named ones). Each exports main(args).
await runScripts(dirname(fileURLToPath(import.meta.url)), process.argv.slice(2), 'bench');
