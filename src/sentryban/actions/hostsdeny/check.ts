import type { Ban } from '../../types.js';
import { planLine } from './plan.js';

// The lines the store says should be in force, in the store's order, without duplicates.
export const wantedLines = (daemonList: string, bans: readonly Ban[]): string[] => [
  ...new Set(bans.map((b) => planLine(daemonList, b.target))),
];

// What differs between the file's block and the store: lines to add and lines to drop.
export const diffLines = (
  current: readonly string[],
  wanted: readonly string[],
): { missing: string[]; stray: string[] } => {
  const cur = new Set(current);
  const want = new Set(wanted);
  return { missing: wanted.filter((l) => !cur.has(l)), stray: current.filter((l) => !want.has(l)) };
};
