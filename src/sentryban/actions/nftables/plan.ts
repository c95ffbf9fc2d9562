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

// Add elements in chunks, all inside the caller's transaction.
export const planAdd = (table: string, wanted: readonly Wanted[]): string[] => {
  const out: string[] = [];
  for (const key of SET_KEYS) {
    const mine = wanted.filter((w) => w.key === key);
    for (let i = 0; i < mine.length; i += CHUNK) {
      out.push(
        `add element inet ${table} ${key} { ${mine
          .slice(i, i + CHUNK)
          .map(elem)
          .join(', ')} }`,
      );
    }
  }
  return out;
};

// The whole table, replaced atomically: nothing of the old table is visible once this commits, and no packet
// sees a moment without the rules. `table X` first makes the delete succeed when the table is absent.
export const planRestore = (spec: NftablesSpec, wanted: readonly Wanted[]): string => {
  const t = spec.table;
  const lines = [
    `table inet ${t}`,
    `delete table inet ${t}`,
    `table inet ${t} {`,
    ...SET_KEYS.map((k) => `  set ${k} { type ${TYPE[k]}; flags ${FLAGS[k]}; }`),
    `  chain input {`,
    `    type filter hook input priority ${spec.priority}; policy accept;`,
    ...SET_KEYS.map((k) => `    ${planRule(spec, k)}`),
    '  }',
    '}',
    ...planAdd(t, wanted),
  ];
  return `${lines.join('\n')}\n`;
};

// Ban (or re-ban with a new timeout) one element; succeeds whether or not it was there.
export const planBan = (table: string, w: Wanted): string =>
  [
    `add element inet ${table} ${w.key} { ${w.elem} }`,
    `delete element inet ${table} ${w.key} { ${w.elem} }`,
    `add element inet ${table} ${w.key} { ${elem(w)} }`,
  ].join('\n') + '\n';

// Unban one element; succeeds whether or not it was there.
export const planUnban = (table: string, key: SetKey, e: string): string =>
  `add element inet ${table} ${key} { ${e} }\ndelete element inet ${table} ${key} { ${e} }\n`;

// Repair without a rebuild: delete strays and early-lapsing elements, then add what is missing (one transaction).
export const planRepair = (
  table: string,
  add: readonly Wanted[],
  remove: readonly { key: SetKey; elem: string }[],
): string => {
  const lines: string[] = [];
  for (const key of SET_KEYS) {
    const mine = remove.filter((r) => r.key === key).map((r) => r.elem);
    for (let i = 0; i < mine.length; i += CHUNK)
      lines.push(`delete element inet ${table} ${key} { ${mine.slice(i, i + CHUNK).join(', ')} }`);
  }
  lines.push(...planAdd(table, add));
  return lines.length ? `${lines.join('\n')}\n` : '';
};
