import type { Clock } from '../../../core/clock.js';
import type { ActionBackend, ActionOutcome, Ban } from '../../types.js';
import type { IpsetSpec } from '../spec.js';
import { OK, failed, runChecked, type Runner } from '../runner.js';
import { Serial } from '../../../core/serial.js';
import { CHECK_REBUILD_OVER, SET_KEYS, setKeyOf, elementText, wantedElements, type SetKey } from '../targets.js';
import { TOOL, planRestoreText, type Family } from '../iptables/plan.js';
import { parseSave } from '../iptables/check.js';
import { kernelTimeout, planCreate, planSetRules, planSwapRestoreChunks, setName } from './plan.js';
import { listed, repairedOutcome, withRepair } from '../repaired.js';
import { parseIpsetSave, planIpsetRepair } from './check.js';

const FAMILIES: readonly Family[] = [4, 6];

// ipset: hash sets with kernel-side timeouts (a safety net: the store decides), matched by one rule per set
// and protocol in the hook chains of iptables/ip6tables.
export class IpsetBackend implements ActionBackend {
  readonly name: string;
  readonly #spec: IpsetSpec;
  readonly #run: Runner;
  readonly #clock: Clock;
  readonly #serial = new Serial();
  readonly #names: Map<string, SetKey>;

  constructor(spec: IpsetSpec, run: Runner, clock: Clock) {
    this.#spec = spec;
    this.#run = run;
    this.#clock = clock;
    this.name = `ipset:${spec.jail}`;
    this.#names = new Map(SET_KEYS.map((k) => [setName(spec.set, k), k]));
  }

  start(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.#serial.run(() => this.#restore(bans));
  }

  ban(ban: Ban): Promise<ActionOutcome> {
    const [w] = wantedElements([ban], this.#clock.now());
    if (!w) return Promise.resolve(OK);
    const argv = [
      'ipset',
      '-exist',
      'add',
      setName(this.#spec.set, w.key),
      w.elem,
      'timeout',
      String(kernelTimeout(w.timeoutSec)),
    ];
    return this.#serial.run(async () => (await runChecked(this.#run, this.name, argv)).outcome);
  }

  unban(ban: Ban): Promise<ActionOutcome> {
    const argv = ['ipset', '-exist', 'del', setName(this.#spec.set, setKeyOf(ban.target)), elementText(ban.target)];
    return this.#serial.run(async () => (await runChecked(this.#run, this.name, argv)).outcome);
  }

  check(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.#serial.run(async () => {
      // A swap-in restore costs less than a diff; blind, so no repair claimed.
      if (bans.length > CHECK_REBUILD_OVER) return this.#restore(bans);
      const saved = await this.#save();
      if (!(saved instanceof Map)) return saved;
      if (saved.size !== SET_KEYS.length)
        return withRepair(await this.#restore(bans), `sets ${this.#spec.set}-* were missing; rebuilt`);
      for (const f of FAMILIES) {
        const st = await this.#iptState(f);
        if (!('hookLines' in st)) return st;
        if (st.hookLines.length !== planSetRules(this.#spec, f).length)
          return withRepair(await this.#restore(bans), `rules matching ${this.#spec.set}-* were missing; rebuilt`);
      }
      const lines = planIpsetRepair(saved, wantedElements(bans, this.#clock.now()), (k) => setName(this.#spec.set, k));
      if (lines.length === 0) return OK;
      const o = (
        await runChecked(this.#run, this.name, ['ipset', '-exist', 'restore'], { input: `${lines.join('\n')}\n` })
      ).outcome;
      const elems = (verb: string): string[] =>
        lines.filter((l) => l.startsWith(`${verb} `)).map((l) => l.split(' ')[2] ?? '');
      return o.ok
        ? repairedOutcome([listed('restored or refreshed', elems('add')), listed('removed stray', elems('del'))])
        : o;
    });
  }

  // Our sets filled and swapped in whole, and the rules matching them, per family. The reads (which of our sets
  // exist, each family's rules) run at once, and a set that is missing is created empty meanwhile (a rule cannot
  // name a missing set), while the batch is built. Then the batch is fed to `ipset restore` as it is built and both
  // families' rules are written alongside (a swap keeps the names the rules use).
  async #restore(bans: readonly Ban[]): Promise<ActionOutcome> {
    const reads = Promise.all([this.#ensureSets(), this.#iptState(4), this.#iptState(6)]);
    const wanted = wantedElements(bans, this.#clock.now());
    const [existing, s4, s6] = await reads;
    if (!(existing instanceof Set)) return existing;
    const input = planSwapRestoreChunks(this.#spec, wanted, existing);
    const sets = runChecked(this.#run, this.name, ['ipset', '-exist', 'restore'], { input });
    // Both families at once: iptables-nft retries a commit that raced another; legacy waits on the lock (-w).
    const rules = async (): Promise<ActionOutcome> => {
      if (!('hookLines' in s4)) return s4;
      if (!('hookLines' in s6)) return s6;
      const done = await Promise.all([
        this.#iptRestore(4, s4.hookLines, planSetRules(this.#spec, 4)),
        this.#iptRestore(6, s6.hookLines, planSetRules(this.#spec, 6)),
      ]);
      return done.find((o) => !o.ok) ?? OK;
    };
    const [r, o] = await Promise.all([sets, rules()]);
    return r.outcome.ok ? o : r.outcome;
  }

  // Names of our sets in the kernel after creating (empty) those that were missing.
  async #ensureSets(): Promise<Set<string> | ActionOutcome> {
    const existing = await this.#existing();
    if (!(existing instanceof Set)) return existing;
    const missing = SET_KEYS.filter((k) => !existing.has(setName(this.#spec.set, k)));
    if (missing.length === 0) return existing;
    const text = missing.map((k) => `${planCreate(setName(this.#spec.set, k), k, this.#spec.maxelem)}\n`).join('');
    const r = await runChecked(this.#run, this.name, ['ipset', '-exist', 'restore'], { input: text });
    if (!r.outcome.ok) return r.outcome;
    return new Set(this.#names.keys());
  }

  // Names of our sets in the kernel (`ipset list -n`: names only, however many elements they hold).
  async #existing(): Promise<Set<string> | ActionOutcome> {
    const r = await runChecked(this.#run, this.name, ['ipset', 'list', '-n']);
    if (!r.outcome.ok) return r.outcome;
    return new Set(r.result.stdout.split('\n').filter((n) => this.#names.has(n)));
  }

  // Our sets as the kernel has them (`ipset save` of the whole list, filtered to our names).
  async #save(): Promise<Map<SetKey, Map<string, number>> | ActionOutcome> {
    const r = await runChecked(this.#run, this.name, ['ipset', 'save']);
    if (!r.outcome.ok) return r.outcome;
    return parseIpsetSave(r.result.stdout, this.#names);
  }

  async #iptState(f: Family) {
    const argv = [TOOL[f].save, '-t', 'filter'];
    const r = await runChecked(this.#run, this.name, argv);
    if (!r.outcome.ok) return r.outcome;
    const marks = [...this.#names.keys()].map((n) => ` --match-set ${n} src`);
    return parseSave(r.result.stdout, '\u0000', (l) => marks.some((m) => l.includes(m)));
  }

  async #iptRestore(f: Family, deleteSaved: readonly string[], insert: readonly string[][]): Promise<ActionOutcome> {
    const argv = [TOOL[f].restore, '-w', '--noflush'];
    try {
      return (await runChecked(this.#run, this.name, argv, { input: planRestoreText({ deleteSaved, insert }) }))
        .outcome;
    } catch (e) {
      return failed(this.name, argv, null, String(e));
    }
  }
}
