import { SET_KEYS, type SetKey, type Wanted } from '../targets.js';

// What the kernel holds for our table, read from `nft -j list table inet <t>`.
export type NftState = { sets: Map<SetKey, Map<string, number | null>>; rules: number; hooked: boolean };

type Json = Record<string, unknown>;

const elemText = (v: unknown): string | null => {
  if (typeof v === 'string') return v;
  const o = v as Json | null;
  if (!o || typeof o !== 'object') return null;
  if ('elem' in o) return elemText((o.elem as Json).val);
  if ('prefix' in o) {
    const p = o.prefix as Json;
    return `${String(p.addr)}/${String(p.len)}`;
  }
  return null;
};

const expiresOf = (v: unknown): number | null => {
  const e = (v as Json | null)?.elem as Json | undefined;
  return e && typeof e.expires === 'number' ? e.expires : null;
};

export const parseNftState = (json: string): NftState => {
  const items = ((JSON.parse(json) as Json).nftables ?? []) as Json[];
  const sets = new Map<SetKey, Map<string, number | null>>();
  let rules = 0;
  let hooked = false;
  for (const it of items) {
    const s = it.set as Json | undefined;
    if (s && (SET_KEYS as readonly string[]).includes(String(s.name))) {
      const m = new Map<string, number | null>();
      for (const e of (s.elem ?? []) as unknown[]) {
        const t = elemText(e);
        if (t) m.set(t, expiresOf(e));
      }
      sets.set(s.name as SetKey, m);
    }
    const c = it.chain as Json | undefined;
    if (c && c.name === 'input' && c.hook === 'input') hooked = true;
    const r = it.rule as Json | undefined;
    if (r && r.chain === 'input') rules++;
  }
  return { sets, rules, hooked };
};

// Needs a full rebuild when the table, a set, the hook or a rule is gone (or a rule was added by hand).
export const needsRebuild = (s: NftState): boolean =>
  !s.hooked || s.rules !== SET_KEYS.length || SET_KEYS.some((k) => !s.sets.has(k));

// Elements to add (missing, or lapsing in the kernel more than `slackSec` before the store's end) and strays.
export const diffElements = (
  s: NftState,
  wanted: readonly Wanted[],
  slackSec = 5,
): { add: Wanted[]; remove: { key: SetKey; elem: string }[] } => {
  const add: Wanted[] = [];
  const remove: { key: SetKey; elem: string }[] = [];
  const keep = new Set<string>();
  for (const w of wanted) {
    keep.add(`${w.key} ${w.elem}`);
    const have = s.sets.get(w.key);
    if (!have?.has(w.elem)) {
      add.push(w);
      continue;
    }
    const exp = have.get(w.elem) ?? null;
    const early = w.timeoutSec === null ? exp !== null : exp !== null && exp + slackSec < w.timeoutSec;
    if (early) {
      remove.push({ key: w.key, elem: w.elem });
      add.push(w);
    }
  }
  for (const [key, m] of s.sets)
    for (const elem of m.keys()) if (!keep.has(`${key} ${elem}`)) remove.push({ key, elem });
  return { add, remove };
};
