import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { appendFileSync, copyFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTmpDir } from '../../helpers/tmp.js';
import { FileFollower } from '../../../src/sentryban/sources/file/follow.js';

// What the rotation storm (test/reliability/rotation-storm.test.ts) found, one poll() step at a time on real
// files: rotations the follower sees late, after the writer or logrotate has moved on.
let tmp: ReturnType<typeof makeTmpDir>;
let path: string;
let followers: FileFollower[] = [];
beforeEach(() => {
  tmp = makeTmpDir('sentryban-rotated-');
  path = join(tmp.dir, 'auth.log');
});
afterEach(() => {
  followers.forEach((f) => f.close());
  followers = [];
  tmp.cleanup();
});

const follow = (fromStart = false): FileFollower => {
  const f = new FileFollower({ path, fromStart });
  followers.push(f);
  return f;
};
const texts = (f: FileFollower): string[] => f.poll().map((l) => l.text);
const renameRotate = (): void => {
  renameSync(path, `${path}.1`);
  writeFileSync(path, '');
};
const shift = (upTo: number): void => {
  for (let k = upTo; k >= 1; k--) renameSync(`${path}.${k}`, `${path}.${k + 1}`);
};

describe('FileFollower after a rotation seen late', () => {
  it('reads the renamed file on while the writer has not reopened yet (late writes through its fd)', () => {
    writeFileSync(path, 'x\n');
    const f = follow();
    texts(f);
    renameRotate();
    expect(texts(f)).toEqual([]); // switched to the new, empty file
    appendFileSync(`${path}.1`, 'late 1\n'); // the writer still holds the old file
    expect(texts(f)).toEqual(['late 1']);
    appendFileSync(`${path}.1`, 'late 2\n');
    appendFileSync(path, 'new 1\n'); // it reopened: nothing more arrives in the old file
    expect(texts(f)).toEqual(['late 2', 'new 1']);
    appendFileSync(`${path}.1`, 'not ours any more\n');
    expect(texts(f)).toEqual([]);
  });

  it('reads a file rotated away between two polls (two rename rotations in one interval)', () => {
    writeFileSync(path, 'a0\n');
    const f = follow();
    texts(f);
    appendFileSync(path, 'a1\n');
    renameRotate();
    appendFileSync(path, 'b1\nb2\n');
    shift(1);
    renameRotate();
    appendFileSync(path, 'c1\n');
    expect(texts(f).sort()).toEqual(['a1', 'b1', 'b2', 'c1']);
    expect(texts(f)).toEqual([]);
  });

  it('reads 40 files rotated away between two polls (more than it keeps open at once)', () => {
    writeFileSync(path, '');
    const f = follow();
    texts(f);
    const want: string[] = [];
    for (let k = 1; k <= 40; k++) {
      appendFileSync(path, `file ${k}\n`);
      want.push(`file ${k}`);
      shift(k - 1);
      renameRotate();
    }
    expect(texts(f).sort()).toEqual(want.sort());
  });

  it('reads what copytruncate copied before we read it, from where we were', () => {
    writeFileSync(path, 'one\n');
    const f = follow(true);
    expect(texts(f)).toEqual(['one']);
    appendFileSync(path, 'two\n');
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    appendFileSync(path, 'three\n');
    expect(texts(f)).toEqual(['two', 'three']);
  });

  it('reads the copy when the truncated file was empty at our last look and is already written past it', () => {
    writeFileSync(path, '');
    const f = follow(true);
    expect(texts(f)).toEqual([]);
    appendFileSync(path, 'p1\np2\n');
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    appendFileSync(path, 'after the truncation, longer\n');
    expect(texts(f)).toEqual(['p1', 'p2', 'after the truncation, longer']);
  });

  it('reads a copy seen before its truncation once, from where we were when the truncation came', () => {
    writeFileSync(path, 'one\n');
    const f = follow(true);
    expect(texts(f)).toEqual(['one']);
    appendFileSync(path, 'two\n');
    copyFileSync(path, `${path}.1`);
    expect(texts(f)).toEqual(['two']); // not truncated yet: the copy waits
    appendFileSync(path, 'in neither file\n'); // logrotate's own window: after the copy, before the truncate
    expect(texts(f)).toEqual(['in neither file']);
    truncateSync(path, 0);
    appendFileSync(path, 'three\n');
    expect(texts(f)).toEqual(['three']);
  });

  it('reads once a copy of the new file made before we opened it (rename, then copytruncate, in one interval)', () => {
    writeFileSync(path, 'x\n');
    const f = follow();
    texts(f);
    appendFileSync(path, 'x1\n');
    renameRotate();
    appendFileSync(path, 'y1\n');
    shift(1);
    copyFileSync(path, `${path}.1`); // copytruncate of the new file: copied, not yet truncated
    expect(texts(f)).toEqual(['x1', 'y1']);
    truncateSync(path, 0);
    appendFileSync(path, 'y2\n');
    expect(texts(f)).toEqual(['y2']);
  });

  it('never reads the rotated files that were there before it started', () => {
    writeFileSync(`${path}.1`, 'history 1\n');
    writeFileSync(`${path}.2`, 'history 2\n');
    writeFileSync(path, 'now\n');
    const f = follow(true);
    expect(texts(f)).toEqual(['now']);
    shift(2);
    renameRotate();
    appendFileSync(path, 'next\n');
    expect(texts(f)).toEqual(['next']);
  });
});
