import { createHash } from 'node:crypto';
import { readSync, type Stats } from 'node:fs';

// fail2ban's check for "same file": MD5 of the first line (bytes including the newline), only when complete.
export const hashFirstLine = (fd: number, size: number): string => {
  if (size === 0) return '';
  const buf = Buffer.alloc(Math.min(size, 65536));
  const n = readSync(fd, buf, 0, buf.length, 0);
  const nl = buf.subarray(0, n).indexOf(10);
  if (nl < 0) return '';
  return createHash('md5').update(buf.subarray(0, nl + 1)).digest('hex');
};

export const inodeOf = (st: Stats): number => Number(st.ino);
