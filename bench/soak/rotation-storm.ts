import { formatStorm, runRotationStorm } from './lib/rotation-storm.js';

// Full size (docs/reliability.md, "Rotation storm"): 1,000,000 lines written as fast as a separate writer
// process can, 100 rotations (rename+create and copytruncate, mixed) at seeded random moments, read by the
// daemon's file follower. Goal: 0 lines missed (of those present in log, log.1 .. log.100), 0 read twice.
// Options: --lines N --rotations N --seed N --check-every N (the writer's reopen check, in lines), --keep (files).
const opt = (args: string[], name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 0) {
    throw new Error(`rotation-storm: --${name} wants an integer, got ${String(args[i + 1])}`);
  }
  return v;
};

export async function main(args: string[]): Promise<void> {
  const r = await runRotationStorm({
    lines: opt(args, 'lines', 1_000_000),
    rotations: opt(args, 'rotations', 100),
    seed: opt(args, 'seed', 12),
    checkEvery: opt(args, 'check-every', 500),
    ...(args.includes('--keep') ? { keepDir: (d: string) => console.log(`rotation-storm: files kept in ${d}`) } : {}),
  });
  console.log(formatStorm(r));
  if (r.missed || r.duplicated || r.malformed) throw new Error('rotation-storm: goal not met (0 missed, 0 read twice)');
}

if (process.argv[1]?.endsWith('rotation-storm.js')) await main(process.argv.slice(2));
