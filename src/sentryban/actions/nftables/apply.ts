import type { Clock } from '../../../core/clock.js';
import type { ActionBackend, ActionOutcome, Ban } from '../../types.js';
import type { NftablesSpec } from '../spec.js';
import { OK, failed, outcomeOf, runChecked, type Piece, type Runner } from '../runner.js';
import { Serial } from '../../../core/serial.js';
import { CHECK_REBUILD_OVER, elementText, setKeyOf, wantedElements } from '../targets.js';
import { planBan, planCreate, planRepair, planRestoreBytes, planRestoreChunks, planUnban } from './plan.js';
import { listed, repairedOutcome, withRepair } from '../repaired.js';
import { diffElements, needsRebuild, parseNftState } from './check.js';
import { nftSession, type NftSession } from './session.js';

const NFT_BATCH = ['nft', '-f', '-'];
const NFT_SESSION = ['nft', '-i'];
// Above this, a change goes as its own `nft -f -`: one line of nft -i input stays small.
const SESSION_MAX_CHARS = 256 * 1024;
// nft 1.0.6 refuses element timeouts somewhere past a year (100,000,000 s fails, 365 d works).
export const NFT_MAX_TIMEOUT = 31536000;

// nftables: every change is one transaction on our own table: a ban's through the running `nft -i` (session.ts)
// where the runner keeps one, a restore's (and any other large change) through its own `nft -f -`.
export class NftablesBackend implements ActionBackend {
  readonly name: string;
  readonly #spec: NftablesSpec;
  readonly #run: Runner;
  readonly #session: NftSession | null;
  readonly #clock: Clock;
  readonly #serial = new Serial();

  constructor(spec: NftablesSpec, run: Runner, clock: Clock) {
    this.#spec = spec;
    this.#run = run;
    this.#clock = clock;
    this.#session = nftSession(run);
    this.name = `nftables:${spec.jail}`;
  }

  start(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.#serial.run(() => this.#restore(bans));
  }

  ban(ban: Ban): Promise<ActionOutcome> {
    const [w] = wantedElements([ban], this.#clock.now(), NFT_MAX_TIMEOUT);
    if (!w) return Promise.resolve(OK); // already over: nothing to enforce
    return this.#batch(planBan(this.#spec.table, w));
  }

  // A burst of bans (a log batch, a fleet batch) in one `nft -f -` transaction instead of one process each. Bans
  // are of new elements almost always: those go in as one `create` per set, one kernel change (and one event for
  // `nft monitor` listeners) per ban instead of planBan's three. When one is there already (a re-ban, a leftover
  // the store no longer holds) the create fails as a whole, changing nothing, and the batch goes again as
  // planBan's, which replaces each element and its timeout.
  banMany(bans: readonly Ban[]): Promise<ActionOutcome> {
    const ws = wantedElements(bans, this.#clock.now(), NFT_MAX_TIMEOUT);
    if (ws.length === 0) return Promise.resolve(OK); // all already over
    const table = this.#spec.table;
    return this.#serial.run(async () => {
      const created = await this.#send(planCreate(table, ws));
      if (created.ok || created.failure.exitCode !== 1) return created; // 1: nft refused it (not killed, not absent)
      return this.#send(ws.map((w) => planBan(table, w)).join(''));
    });
  }

  unban(ban: Ban): Promise<ActionOutcome> {
    return this.#batch(planUnban(this.#spec.table, setKeyOf(ban.target), elementText(ban.target)));
  }

  // Rebuild when the structure is damaged; otherwise add missing elements and drop strays in one transaction.
  check(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.#serial.run(async () => {
      // Above this, listing costs more than rebuilding: the rebuild is blind, so it claims no repair.
      if (bans.length > CHECK_REBUILD_OVER) return this.#restore(bans);
      const argv = ['nft', '-j', 'list', 'table', 'inet', this.#spec.table];
      const { result } = await runChecked(this.#run, this.name, argv);
      if (result.exitCode !== 0) {
        if (result.exitCode === null || result.timedOut) return failed(this.name, argv, result.exitCode, result.stderr);
        return withRepair(await this.#restore(bans), `table ${this.#spec.table} was gone; rebuilt`); // table gone
      }
      let state;
      try {
        state = parseNftState(result.stdout);
      } catch (e) {
        return failed(this.name, argv, 0, `unreadable nft JSON: ${String(e)}`);
      }
      if (needsRebuild(state))
        return withRepair(await this.#restore(bans), `table ${this.#spec.table} was damaged; rebuilt`);
      const d = diffElements(state, wantedElements(bans, this.#clock.now(), NFT_MAX_TIMEOUT));
      const text = planRepair(this.#spec.table, d.add, d.remove);
      if (!text) return OK;
      const added = new Set(d.add.map((w) => w.elem));
      const removed = new Set(d.remove.map((r) => r.elem));
      const o = await this.#send(text);
      const r = repairedOutcome([
        listed(
          'restored',
          [...added].filter((e) => !removed.has(e)),
        ),
        listed(
          'refreshed the timeout of',
          [...added].filter((e) => removed.has(e)),
        ),
        listed(
          'removed stray',
          [...removed].filter((e) => !added.has(e)),
        ),
      ]);
      return o.ok ? r : o;
    });
  }

  // One `nft -f -` fed its input as bytes built from the bans (planRestoreBytes), once nft has been started: its
  // start overlaps the building. nft reads the whole input before it parses, so pieces do not overlap its work;
  // they keep a cut input an unfinished block (restore-cut.real.test.ts).
  #restore(bans: readonly Ban[]): Promise<ActionOutcome> {
    const spec = this.#spec;
    const now = this.#clock.now();
    return this.#send(
      (function* () {
        const bytes = planRestoreBytes(spec, bans, now, NFT_MAX_TIMEOUT);
        if (bytes) yield* bytes;
        else yield* planRestoreChunks(spec, wantedElements(bans, now, NFT_MAX_TIMEOUT));
      })(),
    );
  }

  #batch(text: string): Promise<ActionOutcome> {
    return this.#serial.run(() => this.#send(text));
  }

  async #send(text: string | Iterable<Piece>): Promise<ActionOutcome> {
    if (this.#session && typeof text === 'string' && text.length <= SESSION_MAX_CHARS)
      return outcomeOf(this.name, NFT_SESSION, await this.#session.send(text));
    const { outcome } = await runChecked(this.#run, this.name, NFT_BATCH, { input: text });
    return outcome;
  }
}
