import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CORPUS_SEED, generateCorpus, toJsonl } from './hostile-corpus.js';
import { FIXTURE } from './hostile-lines.js';

// Writes test/fixtures/hostile/corpus.jsonl from the seeded generator (`node dist-bench/bench/soak/lib/
// write-hostile-corpus.js [seed]` after `npx tsc -p tsconfig.bench.json`). The test checks the two stay equal.
const seed = process.argv[2] === undefined ? CORPUS_SEED : Number(process.argv[2]);
const corpus = generateCorpus(seed);
mkdirSync(dirname(FIXTURE), { recursive: true });
writeFileSync(FIXTURE, toJsonl(corpus));
console.log(`${FIXTURE}: ${corpus.length} lines (seed ${seed})`);
