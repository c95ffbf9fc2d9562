import { formatFlood, runFlood, type FloodResult, type RawMode } from './lib/spoofed-flood.js';

// `npm run soak spoofed-flood`: forged probes from 10,000 documentation sources in each raw mode, once with
// BLOCK_RATE_MAX off (1.2's behaviour: every block at once) and once with a ceiling. Figures: probes logged, blocks
// per second held (from each block's own time: the KILL_ROUTE command's; the ceiling counts block starts, so a
// one-second window of command times can hold a few more), RSS peak, and none of the host's own
// addresses, its default gateways or ignored sources blocked. SPOOFED_FLOOD_SOURCES, _MODES, _RATES and _PPS narrow
// or widen a run.
const env = process.env;
const SOURCES = Number(env.SPOOFED_FLOOD_SOURCES ?? 10000);
const MODES = (env.SPOOFED_FLOOD_MODES ?? 'stcp,sudp,atcp,audp').split(',') as RawMode[];
// BLOCK_RATE_MAX values to run, each in every mode: 0 (off, as 1.2) and the bundled config's 50.
const RATES = (env.SPOOFED_FLOOD_RATES ?? '0,50').split(',').map(Number);
const PPS = Number(env.SPOOFED_FLOOD_PPS ?? 4000);

export async function main(_args: string[]): Promise<void> {
  const problems: string[] = [];
  for (const mode of MODES) {
    for (const blockRateMax of RATES) {
      const r: FloodResult = await runFlood({
        mode,
        sources: SOURCES,
        blockRateMax,
        pps: PPS,
        maxSendSeconds: 120,
        drainTimeoutMs: (blockRateMax > 0 ? (SOURCES / blockRateMax) * 1500 : 120000) + 30000,
      });
      console.log(formatFlood(r));
      if (r.lost.length || r.duplicates.length || r.protectedBlocked.length) problems.push(formatFlood(r));
    }
  }
  console.log('spoofed-flood: timings on a shared 2-core machine under load from other jobs');
  if (problems.length) throw new Error(`spoofed-flood: goals missed:\n${problems.join('\n')}`);
}
