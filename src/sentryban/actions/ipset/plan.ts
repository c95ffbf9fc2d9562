import type { IpsetSpec } from '../spec.js';
import { iptablesTarget } from '../blocktype.js';
import { planHookRules, type Family } from '../iptables/plan.js';
import { SET_KEYS, type SetKey, type Wanted } from '../targets.js';

// ipset plans (`ipset -exist restore` input). Hosts go to hash:ip sets, prefixes to hash:net sets, one pair per
// family; each set has one matching rule per protocol in the hook chains. A restore fills a temporary set and
// swaps it in, so the live set is never empty midway.

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

// Replace the contents of every set at once. `existing`: names of our sets already in the kernel. Each set is
// filled as a temporary one and swapped in whole, so input cut short anywhere leaves every live set either as it
// was or complete. Pieces of CHUNK lines, for `ipset restore` to read while the rest is built.
export function* planSwapRestoreChunks(
  spec: IpsetSpec,
  wanted: readonly Wanted[],
  existing: ReadonlySet<string>,
): Generator<string, void, void> {
  const by: Record<SetKey, Wanted[]> = { h4: [], h6: [], n4: [], n6: [] };
  for (const w of wanted) by[w.key].push(w);
  for (const key of SET_KEYS) {
    const name = setName(spec.set, key);
    const tmp = `${name}.t`;
    const mine = by[key];
    const create = existing.has(name) ? '' : `${planCreate(name, key, spec.maxelem)}\n`;
    yield `${create}${planCreate(tmp, key, spec.maxelem)}\nflush ${tmp}\n`;
    for (let i = 0; i < mine.length; i += CHUNK) {
      let text = '';
      for (const w of mine.slice(i, i + CHUNK)) text += `${planAddLine(tmp, w)}\n`;
      yield text;
    }
    yield `swap ${tmp} ${name}\ndestroy ${tmp}\n`;
  }
}

export const planSwapRestore = (spec: IpsetSpec, wanted: readonly Wanted[], existing: ReadonlySet<string>): string =>
  [...planSwapRestoreChunks(spec, wanted, existing)].join('');

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
