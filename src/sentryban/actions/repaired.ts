import type { ActionOutcome } from '../types.js';

// What a check had to put right, in words for the audit trail and the log: "restored 192.0.2.2; removed 1 stray".
// Lists are cut after a few items so one line stays readable when thousands of rules were missing.
const SHOWN = 5;

export const listed = (what: string, items: readonly string[]): string | null => {
  if (items.length === 0) return null;
  const head = items.slice(0, SHOWN).join(', ');
  return `${what} ${head}${items.length > SHOWN ? ` and ${items.length - SHOWN} more` : ''}`;
};

// OK when nothing was repaired, otherwise OK with the repair described.
export const repairedOutcome = (parts: readonly (string | null)[]): ActionOutcome => {
  const text = parts.filter((p): p is string => p !== null && p !== '').join('; ');
  return text === '' ? { ok: true } : { ok: true, repaired: text };
};

// The outcome of a repair command: a failure stays a failure; success carries the description.
export const withRepair = (o: ActionOutcome, text: string): ActionOutcome => (o.ok ? { ok: true, repaired: text } : o);
