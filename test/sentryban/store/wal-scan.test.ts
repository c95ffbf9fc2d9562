import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describeWalScan, scanWal } from '../../../src/sentryban/store/wal-scan.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// A real -wal written by SQLite (five transactions, no checkpoint), then cut or torn the ways a crash leaves it.
const tmps: (() => void)[] = [];
afterEach(() => {
  while (tmps.length) tmps.pop()?.();
});
const realWal = (): Buffer => {
  const t = makeTmpDir('sentryban-wal-');
  tmps.push(t.cleanup);
  const path = join(t.dir, 'x.sqlite3');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t(x TEXT)');
  for (let i = 0; i < 4; i++) db.prepare('INSERT INTO t VALUES (?)').run('x'.repeat(3000));
  const wal = readFileSync(`${path}-wal`); // read while open: closing would checkpoint and delete it
  db.close();
  return wal;
};

describe('scanWal', () => {
  it('a whole -wal: every transaction kept, nothing dropped, nothing to say', () => {
    const w = scanWal(realWal())!;
    expect(w).toMatchObject({ pageSize: 4096, commits: 5, droppedFrames: 0, badFrame: null, cutBytes: 0 });
    expect(describeWalScan('x-wal', w)).toBeNull();
  });
  it('cut mid-frame: the last transaction is dropped, the cut bytes counted', () => {
    const b = realWal();
    const w = scanWal(b.subarray(0, b.length - 1000))!;
    expect(w).toMatchObject({ commits: 4, badFrame: null, cutBytes: 4096 + 24 - 1000 });
    expect(w.keptFrames + w.droppedFrames).toBe(Math.floor((b.length - 1000 - 32) / 4120));
    expect(describeWalScan('x-wal', w)).toMatch(
      /^x-wal: the last write was cut \(the file ends 3120 byte\(s\) into a frame \(cut\)\): kept 4 complete/,
    );
  });
  it('last frame half-written: its checksum fails, its transaction is dropped', () => {
    const b = Buffer.from(realWal());
    b.fill(0, b.length - 2048);
    const w = scanWal(b)!;
    expect(w).toMatchObject({ commits: 4, cutBytes: 0 });
    expect(w.badFrame).toBe(Math.floor((b.length - 32) / 4120) - 1);
    expect(describeWalScan('x-wal', w)).toContain('fails its checksum (half-written)');
  });
  it('frames of an older log after the live ones (a restarted -wal) are not a loss', () => {
    const b = Buffer.from(realWal());
    const frames = Math.floor((b.length - 32) / 4120);
    const kept = scanWal(b.subarray(0, b.length - 1000))!.keptFrames; // the frames of the first four transactions
    // the fifth transaction's frames: another salt
    for (let i = kept; i < frames; i++) b.writeUInt32BE((b.readUInt32BE(16) + 1) >>> 0, 32 + i * 4120 + 8);
    expect(scanWal(b)).toMatchObject({ commits: 4, droppedFrames: 0, badFrame: null, cutBytes: 0 });
  });
  it('no usable header: null (SQLite ignores such a file)', () => {
    expect(scanWal(Buffer.alloc(10))).toBeNull();
    const b = Buffer.from(realWal());
    b[25] = (b[25] ?? 0) ^ 1;
    expect(scanWal(b)).toBeNull();
  });
});
