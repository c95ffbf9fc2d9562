// `sentryban replay`'s options and exit codes, shared by its light front (replay.ts) and the rest (replay-run.ts).

// Exit codes (docs/sentryban.md): sysexits, as the other verbs.
export const EX_USAGE = 64;
export const EX_DATAERR = 65; // a line with no date
export const EX_NOINPUT = 66; // a LOG that cannot be read
export const EX_IOERR = 74; // reading failed part way (a damaged .gz, a disk error)

export type ReplayOptions = {
  configDir: string | null;
  jails: string[];
  json: boolean;
  since: number | null;
  until: number | null;
  logs: string[];
};
