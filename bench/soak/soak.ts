import { formatSoak, runSoak } from './lib/soak.js';

// `npm run soak soak` (SOAK_MINUTES=n to change it) or `node dist-bench/bench/soak/soak.js [minutes]`: both daemons
// for 30 minutes (default) under steady probes (4/s) and log lines (200/s), RSS and fds sampled every 10 s; prints
// the growth per hour after a warm-up (a sixth of the run, at most 5 min) and each daemon's idle RSS.
// See bench/soak/lib/soak.ts for the setup.
export async function main(args: string[]): Promise<void> {
  const arg = args[0] ?? process.env.SOAK_MINUTES;
  const minutes = arg === undefined ? 30 : Number(arg);
  if (!(minutes > 0 && minutes <= 24 * 60)) throw new Error(`soak: duration in minutes expected (got "${arg}")`);
  const durationMs = minutes * 60_000;
  const r = await runSoak({
    durationMs,
    sampleMs: 10_000,
    warmupMs: Math.min(300_000, durationMs / 6),
    idleMs: 30_000,
    settleMs: 30_000,
    probeRate: 4,
    lineRate: 200,
    unblockMs: 20_000,
    rotateMs: 300_000,
    log: (l) => console.log(l),
  });
  for (const l of formatSoak(r)) console.log(l);
}

// Run directly (node dist-bench/bench/soak/soak.js [minutes]) as well as through bench/soak/run.ts.
if (process.argv[1]?.endsWith('/soak/soak.js')) await main(process.argv.slice(2));
