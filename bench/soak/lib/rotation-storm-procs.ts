// The two child processes of the rotation-storm case, as plain ESM source written to a temp dir and run with
// process.execPath (the test runs TypeScript through jest, so a child cannot import a .ts file).

// Line i (1-based) as written, newline included; fixed width so a size in bytes says how many lines it holds.
export const LINE_WIDTH = 58;
export const lineText = (i: number): string =>
  `${String(i).padStart(8, '0')} storm sshd[4242]: Failed password from 192.0.2.7`;

// argv: path lines checkEvery. Appends lines 1..lines with O_APPEND, one write(2) per line, as fast as it can.
// Every checkEvery lines it stats the path, and reopens when the inode changed (a rename rotation): until then it
// keeps writing to the renamed file through its open fd, as a daemon does until logrotate's postrotate HUP.
// Prints {"written","ms","reopens"} on stdout.
export const WRITER_SRC = `
import { closeSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
const [path, linesArg, everyArg] = process.argv.slice(2);
const lines = Number(linesArg), every = Number(everyArg);
const text = (i) => String(i).padStart(8, '0') + ' storm sshd[4242]: Failed password from 192.0.2.7\\n';
let fd = openSync(path, 'a');
let ino = fstatSync(fd).ino;
let reopens = 0;
const t0 = performance.now();
for (let i = 1; i <= lines; i++) {
  writeSync(fd, text(i));
  if (i % every !== 0) continue;
  let st = null;
  try { st = statSync(path); } catch { st = null; }
  if (st === null || st.ino !== ino) { closeSync(fd); fd = openSync(path, 'a'); ino = fstatSync(fd).ino; reopens++; }
}
closeSync(fd);
process.stdout.write(JSON.stringify({ written: lines, ms: performance.now() - t0, reopens }) + '\\n');
`;

// argv: path lines rotations seed lineWidth deadlineMs. Rotates \`rotations\` times at seeded random moments
// (line numbers drawn uniformly in [2 %, 95 %] of lines; the writer's progress is the number of the last line in
// the log), each one
// rename+create or copytruncate (seeded coin). Like logrotate with "rotate 1000": log.k -> log.k+1 .. log.1 ->
// log.2 first, then log -> log.1 and a new empty log (create), or copy log -> log.1 and truncate log to 0.
// Every target is reached once the writer is done, so all rotations happen.
// Prints {"done","renames","copytruncates","ms"} on stdout.
export const ROTATOR_SRC = `
import { closeSync, copyFileSync, fstatSync, openSync, readSync, renameSync, truncateSync } from 'node:fs';
const [path, linesArg, rotArg, seedArg, widthArg, deadlineArg] = process.argv.slice(2);
const lines = Number(linesArg), rotations = Number(rotArg), width = Number(widthArg);
const deadline = Date.now() + Number(deadlineArg);
let s = Number(seedArg) >>> 0;
const rand = () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const targets = Array.from({ length: rotations }, () => Math.floor(lines * (0.02 + 0.93 * rand())))
  .sort((a, b) => a - b);
const kinds = targets.map(() => (rand() < 0.5 ? 'rename' : 'copytruncate'));
const pause = new Int32Array(new SharedArrayBuffer(4));
const buf = Buffer.alloc(8);
let progress = 0;
const lastLine = () => {
  let fd;
  try { fd = openSync(path, 'r'); } catch { return progress; }
  try {
    const whole = Math.floor(fstatSync(fd).size / width);
    if (whole === 0 || readSync(fd, buf, 0, 8, (whole - 1) * width) < 8) return progress;
    const n = Number(buf.toString('latin1'));
    return Number.isInteger(n) && n > progress ? n : progress;
  } finally { closeSync(fd); }
};
let rotated = 0, renames = 0, copytruncates = 0;
const t0 = performance.now();
while (rotated < rotations && Date.now() < deadline) {
  progress = lastLine();
  if (progress < targets[rotated]) { Atomics.wait(pause, 0, 0, 0.2); continue; }
  for (let k = rotated; k >= 1; k--) renameSync(path + '.' + k, path + '.' + (k + 1));
  if (kinds[rotated] === 'rename') {
    renameSync(path, path + '.1');
    closeSync(openSync(path, 'a'));
    renames++;
  } else {
    copyFileSync(path, path + '.1');
    truncateSync(path, 0);
    copytruncates++;
  }
  rotated++;
}
process.stdout.write(JSON.stringify({ done: rotated, renames, copytruncates, ms: performance.now() - t0 }) + '\\n');
`;
