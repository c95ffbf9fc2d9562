import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScripts } from '../lib/run-scripts.js';

// `npm run soak [case ...] [-- options]`: the reliability cases at full size (docs/reliability.md), each
// bench/soak/<case>.ts exporting main(args) and printing its figures; every case runs unless some are named.
await runScripts(dirname(fileURLToPath(import.meta.url)), process.argv.slice(2), 'soak');
