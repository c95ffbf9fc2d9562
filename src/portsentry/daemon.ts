import { spawn } from 'node:child_process';

// Node cannot fork: detaching re-runs this program as a new session leader (setsid via `detached`) with
// --daemon-child, and waits until the child says it is listening or gives up. Unlike 1.2, whose parent
// always exits 0, the parent's exit code says whether the daemon started.
// `note`: the child's one line for the terminal (why it did not start, or what it started without), if any.
export type Detached = { status: 'ok' | 'failed'; note: string | null };
export const detach = (script: string, argv: readonly string[], timeoutMs = 60000): Promise<Detached> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...argv, '--daemon-child'], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      cwd: '/',
    });
    let settled = false;
    const settle = (status: 'ok' | 'failed', note: string | null = null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.removeAllListeners();
      if (child.connected) child.disconnect();
      child.unref();
      resolve({ status, note });
    };
    const timer = setTimeout(() => settle('failed'), timeoutMs);
    child.on('message', (m) => {
      const [status, ...note] = typeof m === 'string' ? m.split(':') : ['failed'];
      settle(status === 'ok' ? 'ok' : 'failed', note.length ? note.join(':') : null);
    });
    child.on('exit', () => settle('failed'));
    child.on('error', () => settle('failed'));
  });

// In the child: report readiness to the parent (if any) and drop the channel so the parent can leave.
export const notifyParent = (status: 'ok' | 'failed', note: string | null = null): void => {
  if (!process.send || !process.connected) return;
  process.send(note === null ? status : `${status}:${note}`, () => {
    if (process.connected) process.disconnect();
  });
};
