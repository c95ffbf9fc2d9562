import type { Clock } from '../../../core/clock.js';
import type { ActionBackend, ActionOutcome, Ban } from '../../types.js';
import type { NftablesSpec } from '../spec.js';
import { OK, failed, runChecked, type Runner } from '../runner.js';
import { Serial } from '../serial.js';
import { CHECK_REBUILD_OVER, elementText, setKeyOf, wantedElements } from '../targets.js';
import { planBan, planFlush, planRepair, planRestore, planStop, planUnban } from './plan.js';
import { diffElements, needsRebuild, parseNftState } from './check.js';

const NFT_BATCH = ['nft', '-f', '-'];


// nftables: every change is one `nft -f -` transaction on our own table.
export class NftablesBackend implements ActionBackend {
  readonly name: string;
  readonly #spec: NftablesSpec;
  readonly #run: Runner;
  readonly #clock: Clock;
  readonly #serial = new Serial();

  constructor(spec: NftablesSpec, run: Runner, clock: Clock) {
    this.#spec = spec;
    this.#run = run;
    this.#clock = clock;
    this.name = `nftables:${spec.jail}`;
  }

  start(bans: readonly Ban[]): Promise<ActionOutcome> { return this.#serial.run(() => this.#restore(bans)); }
  flush(): Promise<ActionOutcome> { return this.#batch(planFlush(this.#spec.table)); }
  stop(): Promise<ActionOutcome> { return this.#batch(planStop(this.#spec.table)); }

  ban(ban: Ban): Promise<ActionOutcome> {
    const [w] = wantedElements([ban], this.#clock.now());
    if (!w) return Promise.resolve(OK); // already over: nothing to enforce
    return this.#batch(planBan(this.#spec.table, w));
  }

  unban(ban: Ban): Promise<ActionOutcome> {
    return this.#batch(planUnban(this.#spec.table, setKeyOf(ban.target), elementText(ban.target)));
  }

  // Rebuild when the structure is damaged; otherwise add missing elements and drop strays in one transaction.
  check(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.#serial.run(async () => {
      if (bans.length > CHECK_REBUILD_OVER) return this.#restore(bans);
      const argv = ['nft', '-j', 'list', 'table', 'inet', this.#spec.table];
      const { result } = await runChecked(this.#run, this.name, argv);
      if (result.exitCode !== 0) {
        if (result.exitCode === null || result.timedOut) return failed(this.name, argv, result.exitCode, result.stderr);
        return this.#restore(bans); // table gone
      }
      let state;
      try { state = parseNftState(result.stdout); } catch (e) { return failed(this.name, argv, 0, `unreadable nft JSON: ${String(e)}`); }
      if (needsRebuild(state)) return this.#restore(bans);
      const d = diffElements(state, wantedElements(bans, this.#clock.now()));
      const text = planRepair(this.#spec.table, d.add, d.remove);
      return text ? this.#send(text) : OK;
    });
  }

  #restore(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.#send(planRestore(this.#spec, wantedElements(bans, this.#clock.now())));
  }

  #batch(text: string): Promise<ActionOutcome> { return this.#serial.run(() => this.#send(text)); }

  async #send(text: string): Promise<ActionOutcome> {
    const { outcome } = await runChecked(this.#run, this.name, NFT_BATCH, { input: text });
    return outcome;
  }
}
