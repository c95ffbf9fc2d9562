import { randomInt } from 'node:crypto';
import { formatFigures, runCrashStorm } from './lib/crash-storm.js';

// `npm run soak crash-storm`: 50 kill -9 during 10,000 bans (nftables in a namespace). Options: --bans N,
// --kills N, --seed N (default: a random seed, printed, so a run can be repeated), --ms-per-kill N (the burst lasts
// kills x N ms, default 3000).
export async function main(args: string[]): Promise<void> {
  const opt = (name: string, dflt: number): number => {
    const i = args.indexOf(`--${name}`);
    const v = i >= 0 ? Number(args[i + 1]) : dflt;
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a whole number`);
    return v;
  };
  const seed = opt('seed', randomInt(2 ** 31));
  const bans = opt('bans', 10_000);
  const kills = opt('kills', 50);
  process.stdout.write(`crash-storm: seed ${seed}, ${kills} kills during ${bans} bans (root, nft, ip netns needed)\n`);
  const say = (l: string): void => {
    process.stdout.write(`  ${l}\n`);
  };
  const f = await runCrashStorm({ bans, kills, seed, msPerKill: opt('ms-per-kill', 3000), say });
  process.stdout.write(`${formatFigures(f)}\n`);
  if (f.bansLost + f.duplicates + f.wronglyBanned + f.linesLost + f.linesDoubled > 0) process.exitCode = 1;
}

// Run directly: node dist-bench/bench/soak/crash-storm.js [options]
if (process.argv[1]?.endsWith('crash-storm.js')) await main(process.argv.slice(2));
