// What SQLite will keep of a WAL file when it opens the database, read before it does: SQLite replays frames
// up to the last commit frame whose checksums hold and drops the rest without a word. Pure: bytes in, facts out.
// Format: https://www.sqlite.org/fileformat2.html#walformat (32-byte header; frames of a 24-byte header + a page).
export type WalScan = {
  pageSize: number;
  commits: number; // complete transactions kept
  keptFrames: number;
  droppedFrames: number; // frames of the log after the last complete commit (unfinished or failing their checksum)
  badFrame: number | null; // index of the first frame whose checksum fails (a half-written frame)
  cutBytes: number; // bytes of a frame cut short at the end of the file
};

const HEADER = 32;
const FRAME_HEADER = 24;

// SQLite's cumulative checksum over 32-bit words, in the byte order the magic number names.
const checksum = (b: Buffer, from: number, to: number, big: boolean, s: [number, number]): [number, number] => {
  let [s0, s1] = s;
  for (let i = from; i < to; i += 8) {
    const x0 = big ? b.readUInt32BE(i) : b.readUInt32LE(i);
    const x1 = big ? b.readUInt32BE(i + 4) : b.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
};

// null: no usable WAL header (SQLite ignores the whole file then; nothing of it was ever kept).
export const scanWal = (b: Buffer): WalScan | null => {
  if (b.length < HEADER) return null;
  const magic = b.readUInt32BE(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) return null;
  const big = (magic & 1) === 1;
  const pageSize = b.readUInt32BE(8) || 65536;
  let s = checksum(b, 0, 24, big, [0, 0]);
  if (s[0] !== b.readUInt32BE(24) || s[1] !== b.readUInt32BE(28)) return null;
  const salt1 = b.readUInt32BE(16);
  const salt2 = b.readUInt32BE(20);
  const size = FRAME_HEADER + pageSize;
  let commits = 0;
  let keptFrames = 0;
  let valid = 0; // frames of this log (salt matches) with good checksums, read so far
  let badFrame: number | null = null;
  let after = 0; // frames of this log after the bad one
  let i = 0;
  let ended = false; // a frame of an older log (a different salt): the log ends there, the rest is stale
  for (let at = HEADER; at + size <= b.length; at += size, i++) {
    if (b.readUInt32BE(at + 8) !== salt1 || b.readUInt32BE(at + 12) !== salt2) {
      ended = true;
      break;
    }
    if (badFrame !== null) {
      after++;
      continue;
    }
    s = checksum(b, at + FRAME_HEADER, at + size, big, checksum(b, at, at + 8, big, s));
    if (s[0] !== b.readUInt32BE(at + 16) || s[1] !== b.readUInt32BE(at + 20)) {
      badFrame = i;
      continue;
    }
    valid++;
    if (b.readUInt32BE(at + 4) !== 0) {
      commits++;
      keptFrames = valid;
    }
  }
  const cutBytes = ended ? 0 : (b.length - HEADER) % size;
  const droppedFrames = valid - keptFrames + (badFrame !== null ? 1 + after : 0);
  return { pageSize, commits, keptFrames, droppedFrames, badFrame, cutBytes };
};

// One line for the log when something is dropped, else null.
export const describeWalScan = (walPath: string, w: WalScan): string | null => {
  if (w.droppedFrames === 0 && w.cutBytes === 0) return null;
  const why = [
    ...(w.badFrame !== null ? [`frame ${w.badFrame + 1} fails its checksum (half-written)`] : []),
    ...(w.cutBytes > 0 ? [`the file ends ${w.cutBytes} byte(s) into a frame (cut)`] : []),
  ];
  const cut = w.cutBytes ? ` + ${w.cutBytes} byte(s)` : '';
  return (
    `${walPath}: the last write was cut${why.length ? ` (${why.join('; ')})` : ''}: ` +
    `kept ${w.commits} complete transaction(s) (${w.keptFrames} frame(s)), ` +
    `dropped ${w.droppedFrames} frame(s)${cut} of the unfinished one; ` +
    'the changes in it (bans, lifts, audit rows, positions) are lost'
  );
};
