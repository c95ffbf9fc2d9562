// The native addons under AddressSanitizer and UndefinedBehaviorSanitizer: native/*.c built again with
// -fsanitize=address,undefined into a folder of its own (the normal build/ is never touched), a copy of the
// project that loads that build, and node run there with the ASAN runtime preloaded (node itself is not
// instrumented). Every report goes to a log file; a finding is one report. Shared by bench/soak/asan.ts (the
// addons' tests) and test/reliability/asan.real.test.ts (a quick drive of each addon function).
import { execa } from 'execa';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alertTable } from '../../../src/portsentry/alert-table.js';
import { parseCidr, type Cidr } from '../../../src/core/addr.js';
import { DRIVE_JS } from './asan-drive.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const REPO = HERE.includes('/dist-bench/')
  ? HERE.slice(0, HERE.indexOf('/dist-bench/'))
  : join(HERE, '../../..');

export const SANITIZE = '-fsanitize=address,undefined';
const CFLAGS = `${SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g -O1`;

// npm's own node-gyp (what `npm ci` runs for the "install" script), and node's headers where Debian puts them.
const nodeGyp = async (): Promise<string> => {
  const prefix = String((await execa('npm', ['prefix', '-g'])).stdout).trim();
  const p = join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  if (!existsSync(p)) throw new Error(`node-gyp not found at ${p}`);
  return p;
};
const nodeDir = (): string[] => {
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include/node/node_api.h')) ? [`--nodedir=${prefix}`] : [];
};

// Builds binding.gyp's targets (one addon per job) in `work`/addon with the sanitizers; returns the folder of
// the .node files.
export const buildAsanAddons = async (work: string): Promise<string> => {
  const dir = join(work, 'addon');
  mkdirSync(dir, { recursive: true });
  cpSync(join(REPO, 'binding.gyp'), join(dir, 'binding.gyp'));
  cpSync(join(REPO, 'native'), join(dir, 'native'), { recursive: true });
  await execa(process.execPath, [await nodeGyp(), 'rebuild', ...nodeDir()], {
    cwd: dir,
    timeout: 300_000,
    env: { CFLAGS, CXXFLAGS: CFLAGS, LDFLAGS: SANITIZE },
  });
  const out = join(dir, 'build/Release');
  const addons = addonsIn(out);
  if (addons.length === 0) throw new Error(`${out}: no addon built`);
  for (const a of addons) {
    const needed = String((await execa('readelf', ['-d', join(out, a)])).stdout);
    if (!/libasan/.test(needed) || !/libubsan/.test(needed)) {
      throw new Error(`${join(out, a)}: not linked with libasan and libubsan`);
    }
  }
  return out;
};

// The addons in a build folder (fastspawn.node, trap.node...).
export const addonsIn = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.node'));

// A copy of the project (sources, tests, dist, bin, data; node_modules linked) whose build/ is the sanitized one.
export const asanTree = (work: string, addons: string): string => {
  const root = join(work, 'tree');
  for (const p of [
    'src',
    'test',
    'dist',
    'bin',
    'config',
    'filters',
    'jails',
    'actions',
    'bench',
    'package.json',
    'jest.config.js',
    'tsconfig.json',
    'tsconfig.build.json',
    'binding.gyp',
    'native',
  ]) {
    if (existsSync(join(REPO, p))) cpSync(join(REPO, p), join(root, p), { recursive: true });
  }
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  mkdirSync(join(root, 'build/Release'), { recursive: true });
  for (const a of addonsIn(addons)) cpSync(join(addons, a), join(root, 'build/Release', a));
  return root;
};

const runtime = async (name: string): Promise<string> =>
  String((await execa('gcc', [`-print-file-name=${name}`])).stdout).trim();

// The environment that runs node (and every node it starts) with the sanitizer runtimes. ASAN reports go to
// files in `logs` (the same log_path in both option sets: UBSAN's default would reset it to stderr); a fatal UBSAN
// report still goes to stderr (GCC 12's runtime), so stderr is searched too. detect_leaks=0: node's own
// allocations at exit are not ours (LeakSanitizer would report them all).
export const asanEnv = async (logs: string): Promise<Record<string, string>> => {
  mkdirSync(logs, { recursive: true });
  return {
    LD_PRELOAD: `${await runtime('libasan.so')} ${await runtime('libubsan.so')}`,
    ASAN_OPTIONS: `detect_leaks=0:halt_on_error=1:log_path=${join(logs, 'san')}:verify_asan_link_order=0`,
    UBSAN_OPTIONS: `halt_on_error=1:print_stacktrace=1:log_path=${join(logs, 'san')}`,
  };
};

// The reports the runs left, in `logs` and in the output given: one per "ERROR: AddressSanitizer" or
// "runtime error:" line.
const REPORT = /ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer/;
export const findings = (logs: string, ...outputs: string[]): string[] => {
  const out: string[] = [];
  const texts: [string, string][] = outputs.map((t) => ['output', t]);
  if (existsSync(logs)) for (const f of readdirSync(logs)) texts.push([f, readFileSync(join(logs, f), 'utf8')]);
  for (const [from, text] of texts) {
    for (const l of text.split('\n')) if (REPORT.test(l)) out.push(`${from}: ${l.trim()}`);
  }
  return out;
};

// The harness checks itself: a C program with a heap overflow and a signed overflow, built and run the same way,
// must leave two reports (ASAN halts at the first: it is run twice, once per fault).
export const canary = async (work: string): Promise<number> => {
  const logs = join(work, 'canary-logs');
  const env = await asanEnv(logs);
  const src = join(work, 'canary.c');
  const prog = join(work, 'canary');
  const c =
    '#include <stdlib.h>\n#include <limits.h>\nint main(int c, char **v) {\n' +
    '  if (c > 1) { int x = INT_MAX; x += c; return x & 1; }\n' +
    '  char *p = malloc(8); volatile int i = 8; p[i] = 1; free(p); return 0;\n}\n';
  writeFileSync(src, c);
  await execa('gcc', [...CFLAGS.split(' '), '-o', prog, src]);
  const { LD_PRELOAD: _drop, ...noPreload } = env;
  const a = await execa(prog, [], { reject: false, env: noPreload });
  const b = await execa(prog, ['x'], { reject: false, env: noPreload });
  return findings(logs, String(a.stderr), String(b.stderr)).length;
};

// The alert tables the drive gives trap.node (built here, as the daemon builds them: the drive is plain JS): a
// good one over an ignore file, written to `work`/tables/good.bin with that file (`work`/tables/ignore).
const writeTables = (work: string): string => {
  const dir = join(work, 'tables');
  mkdirSync(dir, { recursive: true });
  const ignore = join(dir, 'ignore');
  writeFileSync(ignore, '192.0.2.1\n');
  const st = statSync(ignore, { bigint: true });
  const entries = ['192.0.2.1', '2001:db8::/32'].map((c) => parseCidr(c) as Cidr);
  const key = [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs];
  const files: [string, bigint[] | null][] = [
    [ignore, key],
    [join(dir, 'absent'), null],
  ];
  const table = alertTable({ files, entries, key: 'drive' }, 1, Date.now());
  if (!table) throw new Error('asan: no alert table');
  writeFileSync(join(dir, 'good.bin'), table.bytes);
  return dir;
};

// The addon drive (./asan-drive.ts) against the addons in `addons`, under the sanitizers: its output, exit code
// and findings.
export type Drive = { exitCode: number | undefined; output: string; found: string[] };
export const driveUnderAsan = async (work: string, addons: string): Promise<Drive> => {
  const script = join(work, 'drive.mjs');
  writeFileSync(script, DRIVE_JS);
  const logs = join(work, 'drive-logs');
  const tables = writeTables(work);
  const r = await execa(process.execPath, [script, addons, join(REPO, 'node_modules'), tables], {
    env: await asanEnv(logs),
    reject: false,
    all: true,
    timeout: 120_000,
  });
  return { exitCode: r.exitCode, output: String(r.all), found: findings(logs, String(r.all)) };
};
