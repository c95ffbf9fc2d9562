import { remainingSec, type IpsetSpec } from '../spec.js';
import { iptablesTarget } from '../blocktype.js';
import { planHookRules, type Family } from '../iptables/plan.js';
import { SET_KEYS, wantedElements, type SetKey, type Wanted } from '../targets.js';
import type { Ban } from '../../types.js';

// ipset plans (`ipset -exist restore` input). Hosts go to hash:ip sets, prefixes to hash:net sets, one pair per
// family; each set has one matching rule per protocol in the hook chains. A restore fills temporary sets and
// swaps them in, so a live set is never empty midway.

// Kernel timeouts above this are refused by ipset; such bans are kept permanent in the kernel and the store ends them.
export const MAX_IPSET_TIMEOUT = 2147483;

const CHUNK = 5000;

export const setName = (base: string, key: SetKey): string => `${base}-${key}`;
const TYPE: Readonly<Record<SetKey, string>> = {
  h4: 'hash:ip family inet',
  h6: 'hash:ip family inet6',
  n4: 'hash:net family inet',
  n6: 'hash:net family inet6',
};
export const KEYS_OF: Readonly<Record<Family, readonly SetKey[]>> = { 4: ['h4', 'n4'], 6: ['h6', 'n6'] };

export const planCreate = (name: string, key: SetKey, maxelem: number): string =>
  `create ${name} ${TYPE[key]} timeout 0 maxelem ${maxelem}`;

export const kernelTimeout = (sec: number | null): number => (sec === null || sec > MAX_IPSET_TIMEOUT ? 0 : sec);

export const planAddLine = (name: string, w: Wanted): string =>
  `add ${name} ${w.elem} timeout ${kernelTimeout(w.timeoutSec)}`;

// Replace the contents of every set at once, in one pass over the store's bans (no list of elements built first).
// Every set is filled as a temporary one; the swaps come last (`planSwaps`), so input cut short anywhere before
// them leaves every live set as it was. Pieces of CHUNK lines, for `ipset restore` to read while the rest is built.
// A host seen again with a longer timeout gets a second line (-exist updates the timeout: the longest wins);
// prefixes (few) are kept for the end, where those covered by a wider banned prefix are dropped.
export function* planFillChunks(spec: IpsetSpec, bans: readonly Ban[], now: number): Generator<string, void, void> {
  const tmp = (k: SetKey): string => `${setName(spec.set, k)}.t`;
  yield SET_KEYS.map((k) => `${planCreate(tmp(k), k, spec.maxelem)}\nflush ${tmp(k)}\n`).join('');
  const h4 = tmp('h4');
  const h6 = tmp('h6');
  const best = new Map<string, number>();
  const nets: Ban[] = [];
  let text = '';
  let lines = 0;
  for (const b of bans) {
    const r = remainingSec(b.expiresAt, now);
    if (r === 0) continue;
    const t = b.target;
    if (!t.isHost()) {
      nets.push(b);
      continue;
    }
    const k = kernelTimeout(r);
    const elem = t.base.text;
    const prev = best.get(elem);
    if (prev !== undefined && (prev === 0 || (k !== 0 && k <= prev))) continue;
    best.set(elem, k);
    text += `add ${t.base.family === 4 ? h4 : h6} ${elem} timeout ${k}\n`;
    if (++lines === CHUNK) {
      yield text;
      text = '';
      lines = 0;
    }
  }
  for (const w of wantedElements(nets, now)) text += `${planAddLine(tmp(w.key), w)}\n`;
  if (text) yield text;
}

// The filled temporary sets swapped in (the live sets must exist) and dropped.
export const planSwaps = (spec: IpsetSpec): string =>
  SET_KEYS.map((k) => {
    const name = setName(spec.set, k);
    return `swap ${name}.t ${name}\ndestroy ${name}.t\n`;
  }).join('');

// The whole restore text (tests).
export const planSwapRestore = (spec: IpsetSpec, bans: readonly Ban[], now: number): string =>
  [...planFillChunks(spec, bans, now), planSwaps(spec)].join('');

// The live sets, each created unless it is there as we would create it (`ipset -exist restore`).
export const planCreates = (spec: IpsetSpec, keys: readonly SetKey[] = SET_KEYS): string =>
  keys.map((k) => `${planCreate(setName(spec.set, k), k, spec.maxelem)}\n`).join('');

// The rules matching our sets in the hook chains of one family.
export const planSetRules = (spec: IpsetSpec, f: Family): string[][] =>
  KEYS_OF[f].flatMap((key) =>
    planHookRules(spec.hooks, spec.match, [
      '-m',
      'set',
      '--match-set',
      setName(spec.set, key),
      'src',
      ...iptablesTarget(spec.blocktype, f),
    ]),
  );
