import { open, readFile, rm } from 'node:fs/promises';

// A lock file created with O_EXCL next to the file it guards; a lock left by a dead process is broken.
export const withFileLock = async <T>(lockPath: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const h = await open(lockPath, 'wx', 0o600);
      await h.writeFile(String(process.pid));
      await h.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await isStale(lockPath)) { await rm(lockPath, { force: true }); continue; }
    if (Date.now() > deadline) throw new Error(`could not take the lock ${lockPath} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  try { return await fn(); } finally { await rm(lockPath, { force: true }); }
};

const isStale = async (lockPath: string): Promise<boolean> => {
  const pid = Number(await readFile(lockPath, 'utf8').catch(() => ''));
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try { process.kill(pid, 0); return false; } catch (e) { return (e as NodeJS.ErrnoException).code === 'ESRCH'; }
};
