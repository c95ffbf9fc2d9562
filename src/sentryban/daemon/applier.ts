import type { ActionBackend, Ban } from '../types.js';
import type { Repairer } from './repair.js';

// The actions, off the manager's decision queue: one lane per (jail, backend), each running one call at a time,
// in the order the decisions were committed. Bans queued while the lane's previous call runs are joined into the
// next call (group commit: a burst becomes one `nft -f` transaction however many polls of the log it took), so
// the manager goes on deciding while the firewall works. The guarantees of the queue they left:
// - a decision is committed before it gets here (the manager commits, then hands over);
// - one target's actions run in decision order: a ban before its unban, an unban after its ban's call ended
//   (only bans that are next to each other in a lane are joined, never across an unban or a start);
// - a failed call is the Repairer's (repair.ts): it marks the bans failed and the scheduled repair applies the
//   store's view; nothing here retries;
// - drain() waits for every lane to be empty (stop, reload).
type Op = { verb: 'ban'; bans: Ban[] } | { verb: 'unban'; ban: Ban } | { verb: 'start'; bans: readonly Ban[] };
type Item = { op: Op; done: Promise<void>; resolve: () => void };
type Lane = { jail: string; be: ActionBackend; items: Item[]; busy: boolean; tail: Promise<void> };

// A joined batch stays below this many bans (one nft transaction of a few hundred KB at most).
export const MAX_BATCH = 2000;

export class Applier {
  readonly #repair: Repairer;
  readonly #lanes = new Map<string, Map<ActionBackend, Lane>>(); // by jail, then backend instance

  constructor(repair: Repairer) {
    this.#repair = repair;
  }

  // Settles once these bans' call has ended (applied, or failed and left to the repair).
  ban(jail: string, be: ActionBackend, bans: readonly Ban[]): Promise<void> {
    if (bans.length === 0) return Promise.resolve();
    const lane = this.#lane(jail, be);
    this.#repair.queued(jail, be, bans);
    const waits: Promise<void>[] = [];
    for (let i = 0; i < bans.length;) {
      const last = lane.items.at(-1); // never the running one: it left the list when it started
      if (last?.op.verb === 'ban' && last.op.bans.length < MAX_BATCH) {
        const room = MAX_BATCH - last.op.bans.length;
        last.op.bans.push(...bans.slice(i, i + room));
        i += room;
        waits.push(last.done);
        continue;
      }
      const n = Math.min(MAX_BATCH, bans.length - i);
      waits.push(this.#push(lane, { verb: 'ban', bans: bans.slice(i, i + n) }));
      i += n;
    }
    return waits.length === 1 ? (waits[0] as Promise<void>) : Promise.all(waits).then(() => undefined);
  }

  unban(jail: string, be: ActionBackend, ban: Ban): Promise<void> {
    return this.#push(this.#lane(jail, be), { verb: 'unban', ban });
  }

  start(jail: string, be: ActionBackend, bans: readonly Ban[]): Promise<void> {
    return this.#push(this.#lane(jail, be), { verb: 'start', bans });
  }

  // Every lane of the jail (of all jails: null), or only those of `list`, empty and idle.
  async drain(jail: string | null = null, list: readonly ActionBackend[] | null = null): Promise<void> {
    for (let tails = this.#tails(jail, list); tails.length > 0; tails = this.#tails(jail, list))
      await Promise.all(tails);
  }

  // Settles once every action queued so far (in any lane) has ended.
  barrier(): Promise<void> {
    const tails = this.#tails(null, null);
    return tails.length === 0 ? Promise.resolve() : Promise.all(tails).then(() => undefined);
  }

  // The last item of each selected lane that has work: a lane runs in order, so its end is the lane's.
  #tails(jail: string | null, list: readonly ActionBackend[] | null): Promise<void>[] {
    return this.#select(jail, list)
      .filter((l) => l.busy || l.items.length > 0)
      .map((l) => l.tail);
  }

  // A reload dropped these backends: their lanes go (drained first by the caller).
  drop(jail: string, list: readonly ActionBackend[]): void {
    const m = this.#lanes.get(jail);
    for (const be of list) m?.delete(be);
  }

  // How many bans wait in lanes (queued, not yet handed to a backend): the metrics' and tests' view.
  waiting(): number {
    let n = 0;
    for (const m of this.#lanes.values())
      for (const l of m.values()) for (const it of l.items) n += it.op.verb === 'ban' ? it.op.bans.length : 1;
    return n;
  }

  #select(jail: string | null, list: readonly ActionBackend[] | null): Lane[] {
    const out: Lane[] = [];
    for (const [name, m] of this.#lanes)
      if (jail === null || name === jail) for (const l of m.values()) if (!list || list.includes(l.be)) out.push(l);
    return out;
  }

  #lane(jail: string, be: ActionBackend): Lane {
    let m = this.#lanes.get(jail);
    if (!m) this.#lanes.set(jail, (m = new Map<ActionBackend, Lane>()));
    let l = m.get(be);
    if (!l) m.set(be, (l = { jail, be, items: [], busy: false, tail: Promise.resolve() }));
    return l;
  }

  #push(lane: Lane, op: Op): Promise<void> {
    let resolve = (): void => {};
    const done = new Promise<void>((r) => (resolve = r));
    lane.items.push({ op, done, resolve });
    lane.tail = done;
    if (!lane.busy) void this.#pump(lane);
    return done;
  }

  // Runs the lane's items one after the other; the first starts at once, inside the caller's turn.
  async #pump(lane: Lane): Promise<void> {
    lane.busy = true;
    while (lane.items.length > 0) {
      const it = lane.items.shift() as Item;
      try {
        await this.#run(lane, it.op);
      } catch (e) {
        // the Repairer turns a backend's throw into a failure; this is a bug of ours, said and not swallowed
        queueMicrotask(() => {
          throw e;
        });
      } finally {
        it.resolve();
      }
    }
    lane.busy = false;
  }

  #run(lane: Lane, op: Op): Promise<void> {
    if (op.verb === 'ban') return this.#repair.banMany(lane.jail, lane.be, op.bans);
    if (op.verb === 'unban') return this.#repair.act(lane.jail, lane.be, 'unban', op.ban);
    return this.#repair.act(lane.jail, lane.be, 'start', op.bans);
  }
}
