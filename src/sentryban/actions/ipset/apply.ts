import type { Clock } from '../../../core/clock.js';
import type { ActionBackend, ActionOutcome, Ban } from '../../types.js';
import type { IpsetSpec } from '../spec.js';
import { OK, failed, runChecked, type Piece, type Runner } from '../runner.js';
import { Serial } from '../../../core/serial.js';
import { CHECK_REBUILD_OVER, SET_KEYS, setKeyOf, elementText, wantedElements, type SetKey } from '../targets.js';
import { TOOL, planRestoreText, type Family } from '../iptables/plan.js';
import { hookRulesInPlace, parseSave } from '../iptables/check.js';
import { kernelTimeout, planAddLine, planCreates, planFillChunks, planSetRules, planSwaps, setName } from './plan.js';
import { listed, repairedOutcome, withRepair } from '../repaired.js';
import { parseIpsetSave, planIpsetRepair } from './check.js';

const FAMILIES: readonly Family[] = [4, 6];

// What a restore found of its sets: `fresh` when none existed.
type Fresh = { fresh: boolean };
const isFresh = (x: Fresh | ActionOutcome): x is Fresh => 'fresh' in x;

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

  // A burst of bans (a log batch, a fleet batch) in one `ipset -exist restore` instead of a process each: each
  // ban's line is ban()'s add, in order (-exist: one already there takes the line's timeout, as ban() does).
  // ipset stops at a line it refuses; the batch then fails as a whole and the Repairer applies the store's view.
  banMany(bans: readonly Ban[]): Promise<ActionOutcome> {
    const now = this.#clock.now();
    const lines = bans.flatMap((b) =>
      wantedElements([b], now).map((w) => `${planAddLine(setName(this.#spec.set, w.key), w)}\n`),
    );
    if (lines.length === 0) return Promise.resolve(OK);
    const argv = ['ipset', '-exist', 'restore'];
    return this.#serial.run(
      async () => (await runChecked(this.#run, this.name, argv, { input: lines.join('') })).outcome,
    );
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

  // Our sets filled and swapped in whole, and the rules matching them, per family. `ipset restore` starts first and
  // reads the batch as it is built from the bans; meanwhile the live sets are made to exist (a rule cannot name a
  // missing set, a swap needs both sets) and the rules are written alongside (a swap keeps the names the rules
  // use). The swaps come last, once the live sets exist: a batch cut short swaps nothing.
  async #restore(bans: readonly Ban[]): Promise<ActionOutcome> {
    const spec = this.#spec;
    const now = this.#clock.now();
    // Set just below, in this turn: the input is first read once ipset has been started, a promise hop later.
    let ensured!: Promise<Fresh | ActionOutcome>;
    async function* input(): AsyncGenerator<Piece, void, void> {
      yield* planFillChunks(spec, bans, now);
      if (!isFresh(await ensured)) throw new Error(`sets ${spec.set}-* could not be created`);
      yield planSwaps(spec);
    }
    const sets = runChecked(this.#run, this.name, ['ipset', '-exist', 'restore'], { input: input() });
    ensured = this.#ensureSets();
    const [r, o] = await Promise.all([sets, this.#rules(ensured)]);
    return r.outcome.ok || !o.ok ? o : r.outcome;
  }

  // Both families' rules, once the sets exist: the ones there deleted, ours inserted, unless they are in place
  // already (a restart: at the top of their chains, nothing else of ours), when the family's rewrite is skipped.
  // None of our sets before: no rule can name them, so there is nothing to read. Both families at once:
  // iptables-nft retries a commit that raced another; legacy waits on the lock (-w).
  async #rules(ensured: Promise<Fresh | ActionOutcome>): Promise<ActionOutcome> {
    const e = await ensured;
    if (!isFresh(e)) return e;
    const none = { hookLines: [], text: '' };
    const [f4, f6] = e.fresh ? [none, none] : await Promise.all([this.#iptState(4), this.#iptState(6)]);
    if (!('hookLines' in f4)) return f4;
    if (!('hookLines' in f6)) return f6;
    const done = await Promise.all(
      ([[4, f4] as const, [6, f6] as const] as const).map(([f, st]) => {
        const rules = planSetRules(this.#spec, f);
        if (!e.fresh && hookRulesInPlace(st.text, st.hookLines, rules)) return Promise.resolve(OK);
        return this.#iptRestore(f, st.hookLines, rules);
      }),
    );
    return done.find((o) => !o.ok) ?? OK;
  }

  // The live sets made to exist: those missing created empty. `fresh`: none of them existed.
  async #ensureSets(): Promise<Fresh | ActionOutcome> {
    const existing = await this.#existing();
    if (!(existing instanceof Set)) return existing;
    const missing = SET_KEYS.filter((k) => !existing.has(setName(this.#spec.set, k)));
    if (missing.length === 0) return { fresh: false };
    const argv = ['ipset', '-exist', 'restore'];
    const r = await runChecked(this.#run, this.name, argv, { input: planCreates(this.#spec, missing) });
    return r.outcome.ok ? { fresh: existing.size === 0 } : r.outcome;
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
    const text = r.result.stdout;
    return { ...parseSave(text, '\u0000', (l) => marks.some((m) => l.includes(m))), text };
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
