import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzz, HANG_MS, PARSERS } from './lib/config-fuzz.js';

// `npm run soak config-fuzz [-- --minutes M] [--seed S] [--only NAME]`: each config loader fuzzed for M minutes
// (default 10) on near-valid inputs. Figures per loader: inputs tried, refused, crashes (an exception escaping the
// loader), hangs (one load over 1 s of CPU time), refusals with an error lacking file:line >= 1; the slowest load.
const arg = (args: string[], name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

export async function main(args: string[]): Promise<void> {
  const minutes = Number(arg(args, '--minutes') ?? 10);
  const seed = Number(arg(args, '--seed') ?? 20261206);
  const only = arg(args, '--only');
  console.log(`config-fuzz: ${minutes} min per loader, seed ${seed}, load ${loadavg()[0]?.toFixed(2)} at start`);
  let bad = 0;
  for (const make of PARSERS) {
    const p = await make();
    if (only && !p.name.includes(only)) {
      p.close();
      continue;
    }
    const s = await fuzz(p, { seed, ms: minutes * 60_000 });
    bad += s.crashes + s.hangs + s.noPosition;
    console.log(
      `config-fuzz: ${s.parser}: ${s.runs} inputs, refused ${s.refused}, crashes ${s.crashes}, ` +
        `hangs ${s.hangs} (> ${HANG_MS} ms of CPU), errors without file:line ${s.noPosition}, ` +
        `slowest load ${s.maxCpuMs.toFixed(0)} ms of CPU (${s.maxMs.toFixed(0)} ms wall)`,
    );
    const saveDir = join(tmpdir(), 'config-fuzz-findings');
    for (const [k, f] of s.findings.entries()) {
      // the whole inputs, to replay a finding: <tmp>/config-fuzz-findings/<loader>-<kind>-<k>-<file n>.txt
      mkdirSync(saveDir, { recursive: true });
      const stem = `${s.parser.replace(/\W+/g, '-')}-${f.kind}-${k}`;
      f.input.forEach((t, n) => writeFileSync(join(saveDir, `${stem}-${n}.txt`), t));
      console.log(`  ${f.kind}: ${f.detail.slice(0, 300)}`);
      for (const t of f.input) {
        console.log(`    input (${t.length} chars): ${JSON.stringify(t.slice(0, 400))}${t.length > 400 ? '...' : ''}`);
      }
    }
  }
  if (bad) throw new Error(`config-fuzz: ${bad} finding(s)`);
}
