// Small measuring helpers shared by the benches: wall-clock time in ms (sub-ms), median, sleep.
export const now = (): number => performance.timeOrigin + performance.now();

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
