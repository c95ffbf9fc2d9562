import {
  DAMAGES,
  formatFigures,
  runDiskFull,
  runExt4ReadOnly,
  runReadOnly,
  runTorn,
  type CaseFigures,
} from './lib/torn-state.js';

// `npm run soak torn-state [bans]`: per fault kind (disk full, read-only, a cut or half-written -wal, a damaged
// page of the main file), the bans kept and lost, the store's log and syslog lines, whether the daemon stayed up
// and whether writes resumed. Needs root (mount namespaces); the figures are counts, plus the time each case took.
export async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 40);
  const cases: [string, () => Promise<CaseFigures>][] = [
    ['disk full', () => runDiskFull(n)],
    ['read-only', () => runReadOnly(n)],
    ['ext4 read-only while running', () => runExt4ReadOnly(n)],
    ...DAMAGES.map((d): [string, () => Promise<CaseFigures>] => [d.name, () => runTorn(n, d)]),
  ];
  for (const [name, run] of cases) {
    const t0 = Date.now();
    try {
      const f = await run();
      console.log(`${formatFigures(f)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      for (const l of f.logLines) console.log(`  log: ${l}`);
      for (const l of f.syslogLines) console.log(`  syslog: ${l}`);
    } catch (e) {
      console.log(`torn-state: ${name}: FAILED ${(e as Error).message}`);
      process.exitCode = 1;
    }
  }
}
