import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../src/core/clock.js';
import { JailSources } from '../../../src/sentryban/daemon/jail-sources.js';
import type { FollowEvent } from '../../../src/sentryban/sources/file/follow.js';
import { LINE_WIDTH, lineText, ROTATOR_SRC, WRITER_SRC } from './rotation-storm-procs.js';

// Rotation storm (issue 12): a writer process appends numbered lines with O_APPEND as fast as it can while a
// rotator process rotates the log at seeded random moments (rename+create and copytruncate, mixed), and the
// daemon's own file follower (JailSources: fs.watch + 1 s poll over FileSource/FileFollower) reads it. At the
// end every line number is checked against what the follower yielded and what the files hold.

export type StormOptions = {
  lines: number;
  rotations: number;
  seed: number;
  checkEvery?: number; // the writer notices a rename rotation (stat) every this many lines (default 500)
  quietMs?: number; // after both children exit, the follower is done when it yielded nothing for this long
  deadlineMs?: number; // bound on the whole run
  keepDir?: (dir: string) => void; // leave the files for a look (debugging): called with the folder
};

export type StormReport = {
  written: number;
  rotations: { done: number; renames: number; copytruncates: number };
  writerReopens: number;
  writerMs: number;
  writerLinesPerSec: number;
  durationMs: number; // from the writer's start until the follower went quiet
  inFiles: number; // distinct line numbers present in log, log.1 .. log.k at the end
  lostByCopytruncate: number; // written, but in no file: between a copy and its truncate (logrotate's window)
  missed: number; // in some file, never yielded by the follower
  duplicated: number; // line numbers yielded more than once
  extraReads: number; // yields beyond the first, summed
  readNotInFiles: number; // yielded, though in no file at the end (read before a truncate dropped it): not a loss
  malformed: number; // yielded lines that are not a written line
  events: Record<string, number>;
  missedSample: string[];
  duplicatedSample: string[];
};

type Exit = { code: number | null; out: string; err: string };

const run = (script: string, args: string[]): Promise<Exit> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });

const parse = <T>(what: string, e: Exit): T => {
  if (e.code !== 0) throw new Error(`${what} exited ${String(e.code)}: ${e.err.trim()}`);
  return JSON.parse(e.out) as T;
};

// Line numbers found (complete, exact lines) in the log and every rotated file log.1 .. log.k.
const presentInFiles = (path: string, lines: number): Uint8Array => {
  const present = new Uint8Array(lines + 1);
  const files = [path];
  for (let k = 1; existsSync(`${path}.${k}`); k++) files.push(`${path}.${k}`);
  for (const f of files) {
    const text = readFileSync(f, 'latin1');
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; start = nl + 1, nl = text.indexOf('\n', start)) {
      const i = Number(text.slice(start, start + 8));
      if (Number.isInteger(i) && i >= 1 && i <= lines && text.slice(start, nl) === lineText(i)) present[i] = 1;
    }
  }
  return present;
};

// The first few runs of consecutive numbers, as "a-b".
const sample = (xs: number[]): string[] => {
  const runs: string[] = [];
  for (let i = 0; i < xs.length && runs.length < 8; i++) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === (xs[j] as number) + 1) j++;
    runs.push(i === j ? `${xs[i]}` : `${xs[i]}-${xs[j]}`);
    i = j;
  }
  return runs;
};

export const runRotationStorm = async (o: StormOptions): Promise<StormReport> => {
  const dir = mkdtempSync(join(tmpdir(), 'rotation-storm-'));
  const path = join(dir, 'storm.log');
  const reads = new Uint8Array(o.lines + 1);
  const events: Record<string, number> = {};
  let malformed = 0;
  let lastYield = Date.now();
  const onEvent = (e: FollowEvent): void => {
    events[e.kind] = (events[e.kind] ?? 0) + 1;
  };
  const sources = new JailSources(
    [{ path, tail: false }],
    new Map(),
    systemClock,
    (ls) => {
      lastYield = Date.now();
      for (const l of ls) {
        const i = Number(l.text.slice(0, 8));
        const ok = Number.isInteger(i) && i >= 1 && i <= o.lines && l.text === lineText(i);
        if (ok) reads[i] = Math.min(255, (reads[i] as number) + 1);
        else malformed++;
      }
    },
    onEvent,
  );
  try {
    writeFileSync(join(dir, 'writer.mjs'), WRITER_SRC);
    writeFileSync(join(dir, 'rotator.mjs'), ROTATOR_SRC);
    writeFileSync(path, '');
    sources.start();
    const deadlineMs = o.deadlineMs ?? 600_000;
    const t0 = Date.now();
    const rotator = run(join(dir, 'rotator.mjs'), [
      path,
      String(o.lines),
      String(o.rotations),
      String(o.seed),
      String(LINE_WIDTH),
      String(deadlineMs),
    ]);
    const writer = run(join(dir, 'writer.mjs'), [path, String(o.lines), String(o.checkEvery ?? 500)]);
    const w = parse<{ written: number; ms: number; reopens: number }>('writer', await writer);
    const r = parse<StormReport['rotations']>('rotator', await rotator);
    const quietMs = o.quietMs ?? 2500;
    for (;;) {
      sources.poll();
      if (Date.now() - lastYield >= quietMs) break;
      if (Date.now() - t0 > deadlineMs) throw new Error(`rotation-storm: follower still busy after ${deadlineMs} ms`);
      await new Promise((res) => setTimeout(res, 50));
    }
    const durationMs = Date.now() - t0 - quietMs;
    sources.stop();
    const present = presentInFiles(path, o.lines);
    const missed: number[] = [];
    const duplicated: number[] = [];
    let inFiles = 0;
    let lost = 0;
    let extra = 0;
    let readNotInFiles = 0;
    for (let i = 1; i <= o.lines; i++) {
      const n = reads[i] as number;
      if (present[i]) inFiles++;
      else lost++;
      if (present[i] && n === 0) missed.push(i);
      if (!present[i] && n > 0) readNotInFiles++;
      if (n > 1) {
        duplicated.push(i);
        extra += n - 1;
      }
    }
    return {
      written: w.written,
      rotations: { done: r.done, renames: r.renames, copytruncates: r.copytruncates },
      writerReopens: w.reopens,
      writerMs: w.ms,
      writerLinesPerSec: w.written / (w.ms / 1000),
      durationMs,
      inFiles,
      lostByCopytruncate: lost,
      missed: missed.length,
      duplicated: duplicated.length,
      extraReads: extra,
      readNotInFiles,
      malformed,
      events,
      missedSample: sample(missed),
      duplicatedSample: sample(duplicated),
    };
  } finally {
    sources.stop();
    if (o.keepDir) o.keepDir(dir);
    else rmSync(dir, { recursive: true, force: true });
  }
};

export const formatStorm = (r: StormReport): string =>
  `rotation-storm: lines missed ${r.missed}, lines read twice ${r.duplicated} (extra reads ${r.extraReads}), ` +
  `lost by copytruncate itself ${r.lostByCopytruncate}, written ${r.written}, in files ${r.inFiles}, ` +
  `read before a truncate dropped them ${r.readNotInFiles}, malformed ${r.malformed}; ` +
  `rotations ${r.rotations.done} (${r.rotations.renames} rename+create, ${r.rotations.copytruncates} copytruncate), ` +
  `writer reopens ${r.writerReopens}; ` +
  `writer ${Math.round(r.writerLinesPerSec)} lines/s (${Math.round(r.writerMs)} ms), ` +
  `duration ${r.durationMs} ms; follower events ${JSON.stringify(r.events)}` +
  (r.missed ? `; missed ${r.missedSample.join(' ')}` : '') +
  (r.duplicated ? `; read twice ${r.duplicatedSample.join(' ')}` : '');
