import cliProgress from 'cli-progress';

// A progress bar on stderr while replaying a long input on a terminal (the caller asks only when stderr is one):
// bytes of the files read (compressed bytes for a .gz; stdin has no known size and shows no bar).
export type Progress = { tick(lines: number): void; stop(): void };

// Below this a replay takes a second or two: no bar. SENTRYBAN_REPLAY_PROGRESS_MIN (bytes) changes it (tests).
const minBytes = (): number => {
  const env = process.env.SENTRYBAN_REPLAY_PROGRESS_MIN;
  return env !== undefined && /^\d+$/.test(env) ? Number(env) : 32 << 20;
};
const EVERY = 4096; // lines between two updates (the bar redraws at most 10 times a second)

// `inputs`: their sizes and the bytes read of them so far.
export const startProgress = (
  cursors: ReadonlyArray<{ size: number; bytesRead: number }>,
  stream: NodeJS.WritableStream,
): Progress | null => {
  const total = cursors.reduce((n, c) => n + c.size, 0);
  if (total < minBytes()) return null;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'replay [{bar}] {percentage}% | {value}/{total} MiB | ETA {eta_formatted}',
      fps: 10,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const mib = (b: number): number => Math.round(b / (1 << 20));
  bar.start(mib(total), 0);
  let n = 0;
  return {
    tick: (lines) => {
      const before = n;
      n += lines;
      if (Math.floor(n / EVERY) !== Math.floor(before / EVERY))
        bar.update(mib(cursors.reduce((b, c) => b + c.bytesRead, 0)));
    },
    stop: () => bar.stop(),
  };
};
