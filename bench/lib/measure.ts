import { createServer, type AddressInfo } from 'node:net';

// Small measuring helpers shared by the benches: wall-clock time in ms (sub-ms), median, sleep, a free port.
export const now = (): number => performance.timeOrigin + performance.now();

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// A TCP port free on loopback now (the kernel's pick), for a daemon or server the bench starts.
export const freePort = (): Promise<number> =>
  new Promise((res, rej) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
