// What decides the matching of `sentryban regex`, as given on the command line: the same in every thread (the
// main one builds its matcher from it, regex-parallel.ts hands it to each worker). Plain data, posted as is.
// now: a fixed clock (epoch ms; tests), else the system clock.
// countOnly: the summary needs no Failure objects nor group values (see MatcherOptions).
export type RegexSetup = {
  ref: string;
  usedns: string | undefined;
  checkAll: boolean;
  tz: string | undefined;
  now?: number;
  countOnly?: boolean;
};
