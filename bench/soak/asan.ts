import { execa } from 'execa';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addonsIn, asanEnv, asanTree, buildAsanAddons, canary, driveUnderAsan, findings, REPO } from './lib/asan.js';

// `npm run soak asan`: native/*.c built with -fsanitize=address,undefined in a folder of its own, and the tests
// that load the addons run against that build with the sanitizer runtimes preloaded into node (and into every
// daemon the tests start). Prints the findings (goal 0), after checking that the harness does find a planted one.
// ASAN_KEEP=1 keeps the work folder (the reports are in <work>/logs).
export const ADDON_TESTS = [
  'test/portsentry/tcp-trap.real.test.ts',
  'test/portsentry/fast-alert.real.test.ts',
  'test/portsentry/run-command.real.test.ts',
  'test/portsentry/stealth/bind-test.real.test.ts',
  'test/reliability/control-socket.real.test.ts',
];

export async function main(args: string[]): Promise<void> {
  if (args[0] === '--build-only') {
    await buildOnly(args[1] ?? join(REPO, 'build-asan'));
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'sentrytools-asan-'));
  try {
    const planted = await canary(work);
    console.log(`asan: harness check: ${planted} of 2 planted faults reported`);
    if (planted !== 2) throw new Error('the sanitizer harness does not report a planted fault');
    const t0 = Date.now();
    const addons = await buildAsanAddons(work);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    console.log(`asan: addons built with -fsanitize=address,undefined in ${secs} s: ${addonsIn(addons).join(', ')}`);
    const drive = await driveUnderAsan(work, addons);
    const checks = /drive: .*/.exec(drive.output)?.[0] ?? drive.output.slice(-500);
    console.log(
      `asan: every addon function driven, good and bad arguments: ${checks} (exit ${drive.exitCode}), ` +
        `findings ${drive.found.length}`,
    );
    for (const f of drive.found) console.log(`asan:   ${f}`);
    const tree = asanTree(work, addons);
    const logs = join(work, 'logs');
    const env = await asanEnv(logs);
    const tests = args.length ? args : ADDON_TESTS;
    // The "node starter" tests drive child_process.spawn, not the addon: there every command (sh, true...) would
    // start with the ASAN runtime preloaded, ~10x slower, and the 200-at-once test would time out for that alone.
    const jest = [
      '--experimental-vm-modules',
      'node_modules/jest/bin/jest.js',
      '--runInBand',
      '-t',
      '^(?!node starter)',
    ];
    const r = await execa(process.execPath, [...jest, ...tests], {
      cwd: tree,
      env,
      reject: false,
      all: true,
      timeout: 900_000,
    });
    const summary = String(r.all)
      .split('\n')
      .filter((l) => /^(Tests|Test Suites):/.test(l));
    const found = findings(logs, String(r.all));
    console.log(`asan: ${tests.length} test files under ASAN+UBSAN: ${summary.join('; ')} (jest exit ${r.exitCode})`);
    const total = found.length + drive.found.length;
    console.log(`asan: findings ${total} (tests ${found.length}, drive ${drive.found.length})`);
    for (const f of found) console.log(`asan:   ${f}`);
    const failures = String(r.all)
      .split('\n')
      .filter((l) => /✕|●/.test(l))
      .slice(0, 20)
      .join('\n');
    if (r.exitCode !== 0) console.log(failures);
    if (total > 0 || r.exitCode !== 0 || drive.exitCode !== 0) process.exitCode = 1;
  } finally {
    if (process.env.ASAN_KEEP === '1') console.log(`asan: work folder kept: ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

// `node dist-bench/bench/soak/asan.js --build-only [DIR]` (npm run build:asan): the sanitized addons alone, into
// DIR/<name>.node (default build-asan/, ignored by git as build/ is; build/ is never touched), and the
// environment to load them with.
const buildOnly = async (dir: string): Promise<void> => {
  const work = mkdtempSync(join(tmpdir(), 'sentrytools-asan-'));
  try {
    const addons = await buildAsanAddons(work);
    mkdirSync(dir, { recursive: true });
    for (const a of addonsIn(addons)) cpSync(join(addons, a), join(dir, a));
    const env = await asanEnv(join(dir, 'logs'));
    const vars = Object.entries(env)
      .map(([k, v]) => `${k}='${v}'`)
      .join(' ');
    console.log(`asan: ${addonsIn(dir).join(', ')} in ${dir} (load them with ${vars})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
};

// Run directly (node dist-bench/bench/soak/asan.js [--build-only DIR | test paths]) as well as through run.ts.
if (process.argv[1]?.endsWith('/soak/asan.js')) await main(process.argv.slice(2));
