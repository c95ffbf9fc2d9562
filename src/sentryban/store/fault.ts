// A store write that failed because of where the file lives (disk full, folder read-only, I/O error, a damaged
// file), as opposed to a bug. The daemon keeps running on such faults (daemon/store-writer.ts) and throws on bugs.
export type StoreFaultKind = 'full' | 'read-only' | 'io' | 'corrupt';
export type StoreFault = { kind: StoreFaultKind; code: string; message: string };

const KIND_OF_CODE: readonly [RegExp, StoreFaultKind][] = [
  [/^(SQLITE_FULL|ENOSPC|EDQUOT)$/, 'full'],
  [/^(SQLITE_READONLY(_\w+)?|EROFS|EACCES|EPERM)$/, 'read-only'],
  [/^(SQLITE_CORRUPT(_\w+)?|SQLITE_NOTADB)$/, 'corrupt'],
  [/^(SQLITE_IOERR(_\w+)?|SQLITE_CANTOPEN(_\w+)?|EIO|ENOENT)$/, 'io'],
];

export const storeFaultOf = (e: unknown): StoreFault | null => {
  const code = typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : '';
  const message = String((e as Error)?.message ?? e);
  // SQLite reports a full disk met while writing the -wal or -shm as an I/O error; its message says which.
  if (/^SQLITE_IOERR/.test(code) && /disk is full|no space/i.test(message)) return { kind: 'full', code, message };
  for (const [re, kind] of KIND_OF_CODE) if (re.test(code)) return { kind, code, message };
  return null;
};
