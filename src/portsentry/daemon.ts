import { spawn } from 'node:child_process';

// Node cannot fork: detaching re-runs this program as a new session leader (setsid via `detached`) with
// --daemon-child, and waits until the child says it is listening or gives up. Unlike 1.2, whose parent
// always exits 0, the parent's exit code says whether the daemon started.
export const detach = (script: string, argv: readonly string[], timeoutMs = 60000): Promise<'ok' | 'failed'> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...argv, '--daemon-child'], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      cwd: '/',
    });
    let settled = false;
    const settle = (v: 'ok' | 'failed'): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.removeAllListeners();
      if (child.connected) child.disconnect();
      child.unref();
      resolve(v);
    };
    const timer = setTimeout(() => settle('failed'), timeoutMs);
    child.on('message', (m) => settle(m === 'ok' ? 'ok' : 'failed'));
    child.on('exit', () => settle('failed'));
    child.on('error', () => settle('failed'));
  });

// In the child: report readiness to the parent (if any) and drop the channel so the parent can leave.
export const notifyParent = (status: 'ok' | 'failed'): void => {
  if (!process.send || !process.connected) return;
  process.send(status, () => {
    if (process.connected) process.disconnect();
  });
};
