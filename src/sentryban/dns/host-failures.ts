import type { Failure } from '../types.js';
import type { HostResolver, Resolution } from './resolver.js';

// fail2ban's usedns: yes/warn resolve a host name (warn also logs it), raw keeps it as the id (counted, never
// bannable), no drops it (with usedns=no <HOST> cannot match a name; only an explicit <DNS> still can).
export type UseDns = 'yes' | 'warn' | 'no' | 'raw';
export const USEDNS_VALUES: readonly UseDns[] = ['yes', 'warn', 'no', 'raw'];

export type HostLog = (level: 'WARNING' | 'INFO', text: string) => void;

// The host name a failure carries instead of an address (the <HOST>/<DNS> text, not an address, not a fid).
export const hostNameOf = (f: Failure): string | null =>
  f.addr === null && f.groups.dns !== undefined && f.id === f.groups.dns ? f.id : null;

// Python's repr of the set fail2ban logs, e.g. {'192.0.2.5', '2001:db8::5'}.
const pySet = (texts: readonly string[]): string => `{${texts.map((t) => `'${t}'`).join(', ')}}`;

// Turns the failures of one batch into what the jail counts, in their order: one failure per address of a resolved
// name (fail2ban's textToIp), nothing for a name that does not resolve. Answers already cached are used at once;
// only a batch with a name to look up becomes asynchronous.
export class HostFailures {
  readonly #resolver: HostResolver;
  readonly #log: HostLog;
  readonly #reported = new WeakSet<Resolution>(); // a failed lookup is logged once, however many lines named it
  dropped = 0;

  constructor(resolver: HostResolver, log: HostLog) {
    this.#resolver = resolver;
    this.#log = log;
  }

  expand(mode: UseDns, failures: readonly Failure[]): Failure[] | Promise<Failure[]> {
    let pending: Map<string, Promise<Resolution>> | null = null;
    const known = new Map<string, Resolution>();
    for (const f of failures) {
      const name = hostNameOf(f);
      if (name === null || mode === 'raw' || mode === 'no' || known.has(name) || pending?.has(name)) continue;
      const hit = this.#resolver.peek(name);
      if (hit) known.set(name, hit);
      else (pending ??= new Map()).set(name, this.#resolver.resolve(name));
    }
    if (!pending) return this.#build(mode, failures, known);
    const waits = [...pending.values()];
    return Promise.all(waits).then((rs) => {
      for (const r of rs) known.set(r.name, r);
      return this.#build(mode, failures, known);
    });
  }

  #build(mode: UseDns, failures: readonly Failure[], known: ReadonlyMap<string, Resolution>): Failure[] {
    const out: Failure[] = [];
    for (const f of failures) {
      const name = hostNameOf(f);
      if (name === null || mode === 'raw') {
        out.push(f);
        continue;
      }
      const r = mode === 'no' ? undefined : known.get(name);
      if (!r || r.addrs.length === 0) {
        this.dropped++;
        // Logged when looked up, not for every line that repeats a name already known to fail.
        if (r && !r.cached && !this.#reported.has(r)) {
          this.#reported.add(r);
          this.#log('WARNING', `Unable to find a corresponding IP address for ${name}: ${r.error ?? 'no address'}`);
        }
        continue;
      }
      if (mode === 'warn')
        this.#log('WARNING', `Determined IP using DNS Lookup: ${name} = ${pySet(r.addrs.map((a) => a.text))}`);
      for (const a of r.addrs) out.push({ ...f, id: a.text, addr: a });
    }
    return out;
  }
}
