import type { NftablesSpec, PortMatch } from '../spec.js';
import { nftVerdict } from '../blocktype.js';
import { SET_KEYS, type SetKey, type Wanted } from '../targets.js';

// nft batches (`nft -f -` input, one transaction each). Our own table per jail holds four sets (hosts and
// prefixes, per family, `flags timeout`) and one input chain with one rule per set.

const TYPE: Readonly<Record<SetKey, string>> = { h4: 'ipv4_addr', h6: 'ipv6_addr', n4: 'ipv4_addr', n6: 'ipv6_addr' };
const FLAGS: Readonly<Record<SetKey, string>> = {
  h4: 'timeout',
  h6: 'timeout',
  n4: 'interval,timeout',
  n6: 'interval,timeout',
};
const SADDR: Readonly<Record<SetKey, string>> = { h4: 'ip saddr', h6: 'ip6 saddr', n4: 'ip saddr', n6: 'ip6 saddr' };
const CHUNK = 5000;

export const planMatch = (m: PortMatch): string => {
  const proto =
    m.protocols === 'all'
      ? ''
      : m.protocols.length === 1
        ? `meta l4proto ${m.protocols[0]} `
        : `meta l4proto { ${m.protocols.join(', ')} } `;
  const ports = m.ports === 'all' ? '' : `th dport { ${m.ports.map((p) => p.replace(':', '-')).join(', ')} } `;
  return proto + ports;
};

export const planRule = (spec: NftablesSpec, key: SetKey): string =>
  `${planMatch(spec.match)}${SADDR[key]} @${key} ${nftVerdict(spec.blocktype)}`;

const elem = (w: Wanted): string => (w.timeoutSec === null ? w.elem : `${w.elem} timeout ${w.timeoutSec}s`);

// Elements of each set, in the order of `wanted` (one pass).
const bySet = (wanted: readonly Wanted[]): Record<SetKey, Wanted[]> => {
  const by: Record<SetKey, Wanted[]> = { h4: [], h6: [], n4: [], n6: [] };
  for (const w of wanted) by[w.key].push(w);
  return by;
};

// Add elements in chunks, all inside the caller's transaction. `create` refuses an element already there (and
// with it the whole transaction).
export const planAdd = (table: string, wanted: readonly Wanted[], verb: 'add' | 'create' = 'add'): string[] => {
  const by = bySet(wanted);
  const out: string[] = [];
  for (const key of SET_KEYS) {
    const mine = by[key];
    for (let i = 0; i < mine.length; i += CHUNK)
      out.push(
        `${verb} element inet ${table} ${key} { ${mine
          .slice(i, i + CHUNK)
          .map(elem)
          .join(', ')} }`,
      );
  }
  return out;
};

// The whole table, replaced atomically: nothing of the old table is visible once this commits, and no packet
// sees a moment without the rules. `table X` first makes the delete succeed when the table is absent. The new
// table is one block with every element inside its set (nft loads that faster than `add element` commands), so
// input cut short anywhere (the daemon killed while writing it) is a syntax error and nothing changes: the first
// piece, which holds the delete, also opens the block. Pieces of CHUNK elements, for `nft -f -` to read while the
// rest is built.
export function* planRestoreChunks(spec: NftablesSpec, wanted: readonly Wanted[]): Generator<string, void, void> {
  const t = spec.table;
  yield `table inet ${t}\ndelete table inet ${t}\ntable inet ${t} {\n`;
  const by = bySet(wanted);
  for (const k of SET_KEYS) {
    const mine = by[k];
    const head = `  set ${k} { type ${TYPE[k]}; flags ${FLAGS[k]};`;
    if (mine.length === 0) {
      yield `${head} }\n`;
      continue;
    }
    yield `${head}\n    elements = {\n`;
    for (let i = 0; i < mine.length; i += CHUNK) {
      const last = i + CHUNK >= mine.length;
      yield `      ${mine
        .slice(i, i + CHUNK)
        .map(elem)
        .join(', ')}${last ? '\n    }\n  }\n' : ',\n'}`;
    }
  }
  const rules = SET_KEYS.map((k) => `    ${planRule(spec, k)}\n`).join('');
  yield `  chain input {\n    type filter hook input priority ${spec.priority}; policy accept;\n${rules}  }\n}\n`;
}

export const planRestore = (spec: NftablesSpec, wanted: readonly Wanted[]): string =>
  [...planRestoreChunks(spec, wanted)].join('');

// Ban (or re-ban with a new timeout) one element; succeeds whether or not it was there.
export const planBan = (table: string, w: Wanted): string =>
  [
    `add element inet ${table} ${w.key} { ${w.elem} }`,
    `delete element inet ${table} ${w.key} { ${w.elem} }`,
    `add element inet ${table} ${w.key} { ${elem(w)} }`,
  ].join('\n') + '\n';

// New elements with their timeouts, one command per set: one kernel change each (planBan makes three, so that it
// succeeds whatever is there). Fails as a whole when one of them is there already.
export const planCreate = (table: string, wanted: readonly Wanted[]): string =>
  `${planAdd(table, wanted, 'create').join('\n')}\n`;

// Unban one element; succeeds whether or not it was there.
export const planUnban = (table: string, key: SetKey, e: string): string =>
  `add element inet ${table} ${key} { ${e} }\ndelete element inet ${table} ${key} { ${e} }\n`;

// Repair without a rebuild: delete strays and early-lapsing elements, then add what is missing (one transaction).
// Each delete follows an add of the same elements: one whose kernel timeout lapsed since the listing would
// otherwise fail the delete, and with it the whole transaction (seen on a loaded machine).
export const planRepair = (
  table: string,
  add: readonly Wanted[],
  remove: readonly { key: SetKey; elem: string }[],
): string => {
  const lines: string[] = [];
  for (const key of SET_KEYS) {
    const mine = remove.filter((r) => r.key === key).map((r) => r.elem);
    for (let i = 0; i < mine.length; i += CHUNK) {
      const part = `inet ${table} ${key} { ${mine.slice(i, i + CHUNK).join(', ')} }`;
      lines.push(`add element ${part}`, `delete element ${part}`);
    }
  }
  lines.push(...planAdd(table, add));
  return lines.length ? `${lines.join('\n')}\n` : '';
};
