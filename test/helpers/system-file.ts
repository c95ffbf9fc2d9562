import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

// Serialise tests (across jest workers and processes) that must touch a system file such as
// /etc/portsentry/portsentry.conf, and restore the file exactly afterwards, even on failure.
const LOCK = '/tmp/sentrytools-system-file.lock';

const acquire = async (timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(`${LOCK}/pid`, String(process.pid));
      return;
    } catch {
      /* held */
    }
    // A lock left by a dead process is broken.
    try {
      const pid = Number(readFileSync(`${LOCK}/pid`, 'utf8'));
      if (pid > 0) {
        try {
          process.kill(pid, 0);
        } catch {
          rmSync(LOCK, { recursive: true, force: true });
          continue;
        }
      }
    } catch {
      /* pid file not written yet */
    }
    if (Date.now() > deadline) throw new Error(`could not lock ${LOCK} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

export const withSystemFiles = async <T>(paths: string[], fn: () => Promise<T>, timeoutMs = 600000): Promise<T> => {
  await acquire(timeoutMs);
  const saved = paths.map((p) => ({
    p,
    existed: existsSync(p),
    data: existsSync(p) ? readFileSync(p) : null,
    mode: existsSync(p) ? statSync(p).mode : 0o644,
  }));
  try {
    return await fn();
  } finally {
    for (const s of saved) {
      if (s.existed && s.data) {
        mkdirSync(dirname(s.p), { recursive: true });
        writeFileSync(s.p, s.data, { mode: s.mode });
      } else rmSync(s.p, { force: true });
    }
    rmSync(LOCK, { recursive: true, force: true });
    try {
      rmdirSync(LOCK);
    } catch {
      /* gone */
    }
  }
};
