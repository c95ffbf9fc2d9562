import { createServer } from 'node:net';

// A TCP port free on this host right now (the kernel's pick on [::], dual stack), for a test's own listener.
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '::', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
