import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';

// fail2ban's check for "same file": MD5 of the first line (bytes including the newline), only when complete.
export const hashLine = (bytes: Buffer): string => createHash('md5').update(bytes).update('\n').digest('hex');

// Looks at 4 kB first (the follower asks on every poll with new data), then at up to 64 kB.
export const hashFirstLine = (fd: number, size: number): string => {
  for (const len of [4096, 65536]) {
    const buf = Buffer.allocUnsafe(Math.min(size, len));
    const n = buf.length ? readSync(fd, buf, 0, buf.length, 0) : 0;
    const nl = buf.subarray(0, n).indexOf(10);
    if (nl >= 0)
      return createHash('md5')
        .update(buf.subarray(0, nl + 1))
        .digest('hex');
    if (n < len) return '';
  }
  return '';
};

export const inodeOf = (st: Stats): number => Number(st.ino);

export const hashFirstLineOf = (path: string): string => {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    return hashFirstLine(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
};
