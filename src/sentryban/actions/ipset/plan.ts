import type { IpsetSpec } from '../spec.js';
import { iptablesTarget } from '../blocktype.js';
import { planHookRules, type Family } from '../iptables/plan.js';
import type { SetKey, Wanted } from '../targets.js';

// ipset plans (`ipset -exist restore` input). Hosts go to hash:ip sets, prefixes to hash:net sets, one pair per
// family; each set has one matching rule per protocol in the hook chains. A restore fills a temporary set and
// swaps it in, so the live set is never empty midway.

// Kernel timeouts above this are refused by ipset; such bans are kept permanent in the kernel and the store ends them.
export const MAX_IPSET_TIMEOUT = 2147483;

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

// Replace the contents of every set at once. `existing`: names of our sets already in the kernel.
export const planSwapRestore = (spec: IpsetSpec, wanted: readonly Wanted[], existing: ReadonlySet<string>): string => {
  const out: string[] = [];
  for (const key of ['h4', 'h6', 'n4', 'n6'] as const) {
    const name = setName(spec.set, key);
    const tmp = `${name}.t`;
    if (!existing.has(name)) out.push(planCreate(name, key, spec.maxelem));
    out.push(planCreate(tmp, key, spec.maxelem), `flush ${tmp}`);
    for (const w of wanted) if (w.key === key) out.push(planAddLine(tmp, w));
    out.push(`swap ${tmp} ${name}`, `destroy ${tmp}`);
  }
  return `${out.join('\n')}\n`;
};

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
