import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDaemon, SENTINEL } from './lib/hostile-daemon.js';
import {
  canon,
  compile,
  corpusLog,
  fail2banVerdict,
  FIXTURE,
  filterRefs,
  innocentOf,
  isLong,
  lineText,
  loadFixture,
  runFilter,
  worst,
  type Finding,
} from './lib/hostile-lines.js';

// `npm run soak hostile-lines [-- --passes N]`: the hostile corpus through every bundled filter and the stock
// fail2ban sshd, nginx-http-auth, postfix, dovecot filters, in the daemon's matcher; fail2ban-regex's verdict on
// the same lines; then once through a real daemon. Figures: innocent addresses found (ours: a defect; stock: the
// filter's own behaviour, compared with fail2ban-regex), crashes, the worst median time of one line.
const fmt = (ms: number): string => (ms < 1 ? ms.toFixed(3) : ms.toFixed(1));
const list = (fs: Finding[]): string => fs.map((f) => `#${f.n} ${f.kind} ${f.found}`).join(', ');
const key = (xs: string[] | undefined): string => [...new Set((xs ?? []).map(canon))].sort().join(' ');

export async function main(args: string[]): Promise<void> {
  const pi = args.indexOf('--passes');
  const passes = pi >= 0 ? Number(args[pi + 1]) : 7;
  const es = loadFixture();
  const texts = es.map(lineText);
  const long = es.filter(isLong).length;
  console.log(
    `hostile-lines: ${es.length} lines from ${FIXTURE} (${long} of 1 MiB or more), ${passes} timed passes ` +
      `after one warm-up; load ${loadavg()[0]?.toFixed(2)} on ${process.env.HOSTNAME ?? 'this machine'}`,
  );
  const tmp = mkdtempSync(join(tmpdir(), 'hostile-lines-'));
  let defects = 0;
  try {
    const log = join(tmp, 'hostile.log');
    writeFileSync(log, corpusLog(es));
    for (const f of filterRefs()) {
      const r = runFilter(f, compile(f), es, texts, passes);
      const w = worst(r, es, (e) => !isLong(e));
      const wl = worst(r, es, isLong);
      let line =
        `hostile-lines: ${f.label}: innocent ${r.innocent.length}, crashes ${r.crashes.length}, ` +
        `failures found in ${r.found.size} lines, worst line ${fmt(w.ms)} ms (#${w.n} ${w.kind}), ` +
        `worst 1 MiB line ${fmt(wl.ms)} ms (#${wl.n} ${wl.kind})`;
      if (!f.ours) {
        const v = await fail2banVerdict(log, f);
        const inn = innocentOf(es, v.found);
        const agree = es.filter((e) => key(r.found.get(e.n)) === key(v.found.get(e.n))).length;
        const same = list(inn) === list(r.innocent);
        line +=
          `; fail2ban-regex: innocent ${inn.length}${same ? ' (the same lines)' : ` (${list(inn)})`}, ` +
          `same verdict on ${agree}/${es.length} lines (${v.sec.toFixed(1)} s)`;
        const differ = es.filter((e) => key(r.found.get(e.n)) !== key(v.found.get(e.n)));
        for (const e of differ.slice(0, 10)) {
          line += `\n  differs #${e.n} ${e.kind}: ours [${key(r.found.get(e.n))}] fail2ban [${key(v.found.get(e.n))}]`;
        }
      } else defects += r.innocent.length;
      defects += r.crashes.length;
      console.log(line);
      if (r.innocent.length) console.log(`  innocent found: ${list(r.innocent)}`);
      for (const c of r.crashes.slice(0, 5)) console.log(`  crash #${c.n}: ${c.error.split('\n')[0]}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const t0 = performance.now();
  const d = await runDaemon(es);
  const attackers = new Set(es.flatMap((e) => (e.attacker ? [canon(e.attacker)] : [])));
  const ours = new Set(
    filterRefs()
      .filter((f) => f.ours)
      .map((f) => f.family),
  );
  const bad = d.bans.filter((b) => {
    const a = canon(b.target.replace(/\/(32|128)$/, ''));
    return !attackers.has(a) && a !== SENTINEL;
  });
  const badOurs = bad.filter((b) => ours.has(b.jail as never));
  defects += badOurs.length + (d.alive ? 0 : 1);
  const stockBad = bad.filter((b) => !badOurs.includes(b)).map((b) => `${b.jail} ${b.target}`);
  const sec = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    `hostile-lines: daemon: ${d.bans.length} bans in ${sec} s, innocent bans ` +
      `by our filters ${badOurs.length}, by stock filters ${stockBad.length}` +
      `${stockBad.length ? ` (${stockBad.join(', ')})` : ''}, ` +
      `overlong lines skipped ${d.overlong}, crashes ${d.alive ? 0 : 1} (exit ${String(d.exitCode)} on SIGTERM)`,
  );
  if (defects) throw new Error(`hostile-lines: ${defects} defect(s) (innocent addresses by our filters, crashes)`);
}
