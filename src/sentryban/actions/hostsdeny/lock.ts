import { randomBytes } from 'node:crypto';
import { link, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';

// A lock file next to the file it guards. It appears atomically with its content, "<pid> <token>" (written to
// a temp file, then link(2)ed into place, which fails if the lock exists), so a process killed at any point
// leaves either no lock or a complete one. A lock is broken when its process is gone, or when it carries this
// process's pid but another token (a previous daemon that had the same pid, as PID 1 in a container has).
const TOKEN = randomBytes(8).toString('hex');
const OWN = `${process.pid} ${TOKEN}`;
// A lock whose content is not "<pid> <token>" nor a bare pid (an earlier version wrote the pid after creating
// the file, so a kill could leave it empty) is broken once this old.
const FOREIGN_STALE_MS = 5_000;
let calls = 0;

export const withFileLock = async <T>(lockPath: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  const temp = `${lockPath}.${process.pid}.${TOKEN}.${calls++}`;
  await writeFile(temp, OWN, { mode: 0o600 });
  try {
    for (;;) {
      try {
        await link(temp, lockPath);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      if (await breakIfStale(lockPath)) continue;
      if (Date.now() > deadline)
        throw new Error(
          `could not take the lock ${lockPath} within ${timeoutMs} ms (held by ${await holder(lockPath)})`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await rm(temp, { force: true });
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
};

const holder = async (lockPath: string): Promise<string> =>
  (await readFile(lockPath, 'utf8').catch(() => 'nobody now')).slice(0, 60);

const isStale = (content: string, ageMs: number): boolean => {
  const m = /^(\d+)(?: ([0-9a-f]+))?$/.exec(content);
  if (!m) return ageMs > FOREIGN_STALE_MS;
  const pid = Number(m[1]);
  if (pid === process.pid) return m[2] !== TOKEN;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
};

// Breaks a stale lock without taking a fresh one by mistake: the lock is renamed aside, and if what was moved is
// not the file judged stale (another process broke it and took a new lock in between), it is linked back.
const breakIfStale = async (lockPath: string): Promise<boolean> => {
  const before = await stat(lockPath).catch(() => null);
  if (!before) return true;
  const content = await readFile(lockPath, 'utf8').catch(() => null);
  if (content === null) return true;
  if (!isStale(content, Date.now() - before.mtimeMs)) return false;
  const aside = `${lockPath}.stale.${process.pid}.${TOKEN}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return true;
  }
  const moved = await stat(aside).catch(() => null);
  if (moved && moved.ino !== before.ino) await link(aside, lockPath).catch(() => {});
  await rm(aside, { force: true });
  return true;
};
