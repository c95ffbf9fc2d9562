import type { ActionBackend, ActionOutcome, Ban } from '../../types.js';
import type { IptablesSpec } from '../spec.js';
import { OK, failed, runChecked, type Runner } from '../runner.js';
import { Serial } from '../../../core/serial.js';
import { TOOL, planHookRules, planRestoreText, planSourceRule, type Family, type RestorePlan } from './plan.js';
import { listed, repairedOutcome } from '../repaired.js';
import { parseSave, sameSources, type SavedState } from './check.js';

const FAMILIES: readonly Family[] = [4, 6];
const MAX_DELETES = 16;

// iptables + ip6tables: a chain of our own (one rule per banned source) jumped to from the hook chains.
export class IptablesBackend implements ActionBackend {
  readonly name: string;
  readonly #spec: IptablesSpec;
  readonly #run: Runner;
  readonly #serial = new Serial();

  constructor(spec: IptablesSpec, run: Runner) {
    this.#spec = spec;
    this.#run = run;
    this.name = `iptables:${spec.jail}`;
  }

  start(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.#each((f) => this.#rebuild(f, bans));
  }

  check(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.#each(async (f) => {
      const st = await this.#state(f);
      if (!('chainExists' in st)) return st;
      const want = sourcesOf(bans, f);
      const hooksOk = st.hookLines.length === this.#hookRules().length;
      if (st.chainExists && hooksOk && sameSources(st.sources, want)) return OK;
      const have = new Set(st.sources);
      const wanted = new Set(want);
      const what = !st.chainExists
        ? [`chain ${this.#spec.chain} was gone; rebuilt`]
        : [
            hooksOk ? null : `hook rules of ${this.#spec.chain} repaired`,
            listed(
              'restored',
              want.filter((s) => !have.has(s)),
            ),
            listed(
              'removed stray',
              st.sources.filter((s) => !wanted.has(s)),
            ),
            new Set(st.sources).size !== st.sources.length ? 'removed duplicates' : null,
          ];
      const o = await this.#restore(f, this.#fullPlan(f, st, want));
      return o.ok ? repairedOutcome([`${TOOL[f].cmd}: ${what.filter(Boolean).join(', ')}`]) : o;
    });
  }

  ban(ban: Ban): Promise<ActionOutcome> {
    const f = ban.target.base.family;
    const rule = planSourceRule(this.#spec.chain, ban.target.text, this.#spec.blocktype, f);
    return this.#serial.run(async () => {
      const cmd = TOOL[f].cmd;
      const c = await runChecked(this.#run, this.name, [cmd, '-w', '-C', ...rule]);
      if (c.result.exitCode === 0) return OK;
      if (c.result.exitCode !== 1) return c.outcome;
      return (await runChecked(this.#run, this.name, [cmd, '-w', '-I', rule[0] as string, '1', ...rule.slice(1)]))
        .outcome;
    });
  }

  // Deletes every copy; "no such rule" (exit 1) ends the loop and is success.
  unban(ban: Ban): Promise<ActionOutcome> {
    const f = ban.target.base.family;
    const rule = planSourceRule(this.#spec.chain, ban.target.text, this.#spec.blocktype, f);
    return this.#serial.run(async () => {
      for (let i = 0; i < MAX_DELETES; i++) {
        const d = await runChecked(this.#run, this.name, [TOOL[f].cmd, '-w', '-D', ...rule]);
        if (d.result.exitCode === 1) return OK;
        if (!d.outcome.ok) return d.outcome;
      }
      return OK;
    });
  }

  #hookRules(): string[][] {
    return planHookRules(this.#spec.hooks, this.#spec.match, ['-j', this.#spec.chain]);
  }

  #fullPlan(f: Family, st: SavedState, sources: readonly string[]): RestorePlan {
    const rules = sources.map((s) => planSourceRule(this.#spec.chain, s, this.#spec.blocktype, f));
    return { chain: { name: this.#spec.chain, rules }, deleteSaved: st.hookLines, insert: this.#hookRules() };
  }

  async #rebuild(f: Family, bans: readonly Ban[]): Promise<ActionOutcome> {
    const st = await this.#state(f);
    if (!('chainExists' in st)) return st;
    return this.#restore(f, this.#fullPlan(f, st, sourcesOf(bans, f)));
  }

  async #state(f: Family): Promise<SavedState | ActionOutcome> {
    const argv = [TOOL[f].save, '-t', 'filter'];
    const r = await runChecked(this.#run, this.name, argv);
    if (!r.outcome.ok) return r.outcome;
    const jump = ` -j ${this.#spec.chain}`;
    return parseSave(r.result.stdout, this.#spec.chain, (l) => l.endsWith(jump) || l.includes(`${jump} `));
  }

  async #restore(f: Family, plan: RestorePlan): Promise<ActionOutcome> {
    const argv = [TOOL[f].restore, '-w', '--noflush'];
    return (await runChecked(this.#run, this.name, argv, { input: planRestoreText(plan) })).outcome;
  }

  // Both families, one after the other, under the instance lock; the first failure is returned.
  #each(op: (f: Family) => Promise<ActionOutcome>): Promise<ActionOutcome> {
    return this.#serial.run(async () => {
      let first: ActionOutcome = OK;
      for (const f of FAMILIES) {
        const o = await op(f).catch((e: unknown) => failed(this.name, [TOOL[f].cmd], null, String(e)));
        if (first.ok && !o.ok) first = o;
        else if (first.ok && o.ok && o.repaired)
          first = { ok: true, repaired: first.repaired ? `${first.repaired}; ${o.repaired}` : o.repaired };
      }
      return first;
    });
  }
}

// The store's bans of one family as iptables sources ("192.0.2.1/32"), deduplicated.
export const sourcesOf = (bans: readonly Ban[], f: Family): string[] => [
  ...new Set(bans.filter((b) => b.target.base.family === f).map((b) => b.target.text)),
];
