// Redis stream ids (`<ms>-<seq>`, each part up to 2^64-1), compared and stepped as numbers, never as text.
const ID = /^(\d{1,20})-(\d{1,20})$/;
const parts = (id: string): [bigint, bigint] | null => {
  const m = ID.exec(id);
  return m ? [BigInt(m[1] ?? '0'), BigInt(m[2] ?? '0')] : null;
};
const MAX_SEQ = 18446744073709551615n;

// Order of two ids; text that is not an id counts as 0-0.
export const compareIds = (a: string, b: string): number => {
  const [am, as] = parts(a) ?? [0n, 0n];
  const [bm, bs] = parts(b) ?? [0n, 0n];
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
};

// The id just before `id` (XREAD returns what follows it); null for 0-0 or text that is not an id.
export const idBefore = (id: string): string | null => {
  const p = parts(id);
  if (!p) return null;
  const [ms, seq] = p;
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  return ms > 0n ? `${ms - 1n}-${MAX_SEQ}` : null;
};
