import { Serial } from '../../core/serial.js';
import type { Addr, Cidr } from '../../core/addr.js';
import type { Received, ReceivedOutcome } from '../fleet/received.js';
import type { Clock, Instant } from '../../core/clock.js';
import type { LoadedJail } from '../config/loaded.js';
import { Expiry } from '../expire.js';
import { matchIgnore } from '../jails/ignore.js';
import { ActiveBans, banKey } from '../jails/active-bans.js';
import { createJailState, forgetDue, step, type JailInput, type JailState } from '../jails/jail.js';
import type { Store } from '../store/store.js';
import type { ActionBackend, Ban, Decision, Failure, FilePosition, LogLine } from '../types.js';
import type { HostFailures, UseDns } from '../dns/host-failures.js';
import type { JailConfig } from '../jails/config.js';
import { runIgnoreCommand } from './ignore-command.js';
import { newLineMatcher, type LineMatcher } from './line-matcher.js';
import type { DecisionLog } from './log.js';
import { Applier } from './applier.js';
import { Repairer, type ActionTimer } from './repair.js';
import { StoreWriter } from './store-writer.js';

// The lines behind a ban, each once, in the order read (a multi-line failure brings several).
const linesOf = (failures: readonly Failure[]): string[] => [...new Set(failures.flatMap((f) => f.lines))];

// Where the stages meet: lines -> match -> step -> store.commit -> actions; expiry -> unban. Every decision goes
// through one queue and is committed there; its actions are handed to the applier (applier.ts), which runs them
// per backend in decision order, joining the bans that queue up behind a running call. The queue does not wait
// for the firewall: a caller (lines, ban, unban, receive) does, outside the queue.
// What is banned now is one table (#bans, jails/active-bans.ts) that only this class writes: loaded from the
// store at start, a ban added as its jail decides it, a lift removed, each committed to the store in the same turn.
const allDone = (ps: readonly Promise<void>[]): Promise<void> =>
  ps.length === 0 ? Promise.resolve() : Promise.all(ps).then(() => undefined);

type Jail = {
  loaded: LoadedJail;
  state: JailState;
  backends: ActionBackend[];
  matchers: Map<string, LineMatcher>;
  lines: number;
  matched: number; // failures the filter found (before findtime and ignore)
  failures: number;
  bans: number;
  unbans: number;
  held: Serial; // batches held back behind a host name lookup, in line order
  forgotUpTo: Instant; // tickets last forgotten for failures before this (see #forget)
};
// A reload's changes to the jails (daemon/reload.ts); `backends` are each jail's new list, where an instance of
// the old list is kept for every action whose spec did not change.
export type Reconfigure = {
  removed: readonly string[];
  changed: readonly { loaded: LoadedJail; backends: ActionBackend[] }[];
  added: readonly { loaded: LoadedJail; backends: ActionBackend[] }[];
};
// `writer`: the store's writes (store-writer.ts); one is made over `store` when not given.
export type ManagerDeps = {
  store: Store;
  clock: Clock;
  log: DecisionLog;
  random?: () => number;
  backends: Map<string, ActionBackend[]>;
  hosts?: HostFailures;
  writer?: StoreWriter;
  timed?: ActionTimer; // each backend call as it ends (metrics)
};

// A jail's counters since the daemon started (a reload keeps them) and its bans in force now: the metrics
// endpoint's view (daemon/metrics.ts); the control socket's `status` (schemas/sentryban/status.v1.json) is status().
export type JailCounters = {
  jail: string;
  filter: string;
  lines: number;
  matched: number;
  failures: number;
  counting: number;
  bans: number;
  unbans: number;
  banned: number;
};

export class BanManager {
  readonly #deps: ManagerDeps;
  readonly #jails = new Map<string, Jail>();
  readonly #bans = new ActiveBans();
  readonly #expiry: Expiry;
  readonly #repair: Repairer;
  readonly #applier: Applier;
  // Decisions, expiries and control commands, one at a time, in order.
  readonly #serial = new Serial();
  readonly #hosts: HostFailures | null;
  readonly #writer: StoreWriter;
  #self: (JailInput & { kind: 'self' }) | null = null; // the host's addresses, for jails added by a reload
  #decided: ((ds: readonly Decision[]) => void) | null = null; // the fleet's publisher (fleet/link.ts)

  constructor(jails: readonly LoadedJail[], deps: ManagerDeps) {
    this.#deps = deps;
    this.#hosts = deps.hosts ?? null;
    this.#writer =
      deps.writer ??
      new StoreWriter(deps.store, {
        clock: deps.clock,
        path: 'store',
        reopen: () => ({ ok: false, message: 'store: no file to reopen' }),
        log: (level, text) => deps.log.line('database', level, text),
      });
    for (const j of jails)
      this.#jails.set(j.spec.config.name, this.#newJail(j, deps.backends.get(j.spec.config.name) ?? []));
    this.#repair = new Repairer(deps.backends, {
      clock: deps.clock,
      audit: (row) => this.#writer.audit(row),
      log: (level, text) => deps.log.line('actions', level, text),
      // The bans in force as this manager holds them: the store's, plus those it could not write yet.
      bansOf: (jail) => this.#bans.inForce(jail, deps.clock.now()),
      ...(deps.timed ? { timed: deps.timed } : {}),
    });
    this.#applier = new Applier(this.#repair);
    this.#writer.checkAgainst(() => this.#bans.inForce(null, deps.clock.now()));
    this.#expiry = new Expiry(deps.clock, (keys) => {
      void this.#enqueue(() => this.#expire(keys));
    });
  }

  #enqueue<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.#serial.run(fn);
  }
  // A job that decides in the queue; its caller then waits, outside the queue, for the actions of every decision
  // up to its own (as when they ran in the queue: once lines() or ban() resolves, what was decided before is
  // applied too, an expiry's unban included).
  async #enqueueActing<T>(fn: () => Promise<T> | T): Promise<T> {
    const { value, applied } = await this.#decideQueued(fn);
    await applied;
    return value;
  }
  // The job in the queue, and the barrier of the actions decided up to it (in an object: a promise returned from
  // the job would hold the queue until it settles).
  #decideQueued<T>(fn: () => Promise<T> | T): Promise<{ value: T; applied: Promise<void> }> {
    return this.#serial.run(async () => ({ value: await fn(), applied: this.#applier.barrier() }));
  }
  #env(): { now: Instant; random: () => number } {
    return { now: this.#deps.clock.now(), random: this.#deps.random ?? Math.random };
  }
  jailNames(): string[] {
    return [...this.#jails.keys()];
  }

  // On start: lift (and record) bans that ended while we were down, then re-apply every ban in force in one
  // idempotent batch per backend.
  start(): Promise<{ restored: number; lifted: number }> {
    return this.#enqueue(async () => {
      const now = this.#deps.clock.now();
      const store = this.#writer.store;
      for (const [name, j] of this.#jails) this.#resume(name, j, now);
      const all = store.activeBans();
      const ended = all.filter((b) => b.expiresAt !== null && b.expiresAt <= now);
      const inForce = all.filter((b) => !ended.includes(b));
      this.#writer.commit(
        now,
        ended.map((ban): Decision => ({ kind: 'unban', jail: ban.jail, ban, reason: 'expired' })),
      );
      for (const b of ended) this.#deps.log.decision({ kind: 'unban', jail: b.jail, ban: b, reason: 'expired' });
      for (const b of inForce) {
        this.#hold(b);
        this.#writer.audit({
          at: now,
          jail: b.jail,
          target: b.target.text,
          kind: 'restored',
          detail: 'restored at start',
          data: null,
        });
        this.#deps.log.decision({ kind: 'restored', jail: b.jail, target: b.target.text });
      }
      const acts: Promise<void>[] = [];
      for (const [name, j] of this.#jails) {
        const mine = inForce.filter((b) => b.jail === name);
        for (const be of j.backends) acts.push(this.#applier.start(name, be, mine));
        for (const b of ended.filter((x) => x.jail === name))
          for (const be of j.backends) acts.push(this.#applier.unban(name, be, b));
      }
      await allDone(acts);
      return { restored: inForce.length, lifted: ended.length };
    });
  }

  // A jail's memory from the store: earlier bans (bantime.increment) and the counting in progress. Counting
  // resumes where it stopped: a ticket older than two findtimes can no longer reach a new failure (those older
  // than one findtime are not counted, and a ticket spans at most one more).
  #resume(name: string, j: Jail, now: Instant): void {
    const store = this.#writer.store;
    const cfg = j.loaded.spec.config;
    j.state.history = store.history(cfg.increment?.overalljails ? null : name);
    for (const [key, ticket] of store.openTickets(name, now - 2 * cfg.findtimeSec * 1000))
      step(cfg, j.state, { kind: 'counting', key, ticket }, this.#env());
  }

  #newJail(loaded: LoadedJail, backends: ActionBackend[]): Jail {
    return {
      loaded,
      state: createJailState(this.#bans.of(loaded.spec.config.name)),
      backends,
      matchers: new Map(),
      lines: 0,
      matched: 0,
      failures: 0,
      bans: 0,
      unbans: 0,
      held: new Serial(),
      forgotUpTo: -Infinity,
    };
  }

  // A reload (daemon/reload.ts found what changed), in the queue: no batch is decided half on the old settings.
  // - changed: the new settings, filter and action list take effect; counting, bans and counters are kept; a
  //   backend whose spec did not change is the same instance (nothing re-applied), a new one starts with the
  //   jail's bans in force, a dropped one has them removed.
  // - removed: as fail2ban stops a jail: its backends have its bans removed; the bans stay in the store and in
  //   the table until they end, and a jail of that name added back (reload or restart) restores those in force.
  // - added: starts as at a daemon start (history and counting from the store, its bans in force restored).
  reconfigure(r: Reconfigure): Promise<void> {
    // A dropped backend's lane runs out (its bans' calls end) before the unbans, and goes with its slot.
    const lift = async (name: string, list: readonly ActionBackend[]): Promise<void> => {
      const bans = this.#bans.inForce(name, this.#deps.clock.now());
      await allDone(list.flatMap((be) => bans.map((b) => this.#applier.unban(name, be, b))));
      await this.#applier.drain(name, list);
      this.#applier.drop(name, list);
      this.#repair.dropSlots(name, list);
    };
    const begin = async (name: string, list: readonly ActionBackend[]): Promise<void> => {
      this.#repair.addSlots(name, list);
      const bans = this.#bans.inForce(name, this.#deps.clock.now());
      await allDone(list.map((be) => this.#applier.start(name, be, bans)));
    };
    return this.#enqueue(async () => {
      const now = this.#deps.clock.now();
      for (const name of r.removed) {
        const j = this.#jails.get(name);
        if (!j) continue;
        this.#jails.delete(name); // a batch still held behind a host name lookup commits only its positions
        await lift(name, j.backends);
      }
      for (const c of r.changed) {
        const name = c.loaded.spec.config.name;
        const j = this.#jails.get(name);
        if (!j) continue;
        const dropped = j.backends.filter((be) => !c.backends.includes(be));
        const fresh = c.backends.filter((be) => !j.backends.includes(be));
        j.loaded = c.loaded;
        j.matchers.clear();
        j.backends = c.backends;
        j.state.history = this.#writer.store.history(c.loaded.spec.config.increment?.overalljails ? null : name);
        await lift(name, dropped);
        await begin(name, fresh);
      }
      for (const a of r.added) {
        const name = a.loaded.spec.config.name;
        if (this.#jails.has(name)) continue;
        const j = this.#newJail(a.loaded, a.backends);
        this.#jails.set(name, j);
        this.#resume(name, j, now);
        if (this.#self) step(j.loaded.spec.config, j.state, this.#self, this.#env());
        await begin(name, a.backends);
      }
    });
  }

  // Lines of one jail; the position after the last line of each file is committed with the decisions.
  // Matching runs at once, in order (the hot path). Host names (usedns yes/warn) are resolved off it: a batch
  // waiting for the resolver holds back the jail's later batches, so failures are counted in line order, on the
  // lines' own timestamps and against the findtime window of the moment they were read.
  lines(jail: string, lines: readonly LogLine[]): Promise<void> {
    const j = this.#jails.get(jail);
    if (!j) return Promise.resolve();
    const oldest = this.#deps.clock.now() - j.loaded.spec.config.findtimeSec * 1000;
    const found: Failure[] = [];
    for (const line of lines) {
      j.lines++;
      let matcher = j.matchers.get(line.source);
      if (!matcher) {
        matcher = newLineMatcher(j.loaded.filter, () => this.#deps.clock.now());
        j.matchers.set(line.source, matcher);
      }
      for (const f of matcher.match(line)) found.push(f);
    }
    j.matched += found.length;
    const last = new Map<string, FilePosition>();
    for (const l of lines) if (l.position) last.set(l.position.path, l.position);
    const positions = [...last.values()].map((pos) => ({ jail, pos }));
    const ready = this.#hosts ? this.#hosts.expand(j.loaded.filter.usedns as UseDns, found) : found;
    if (!(ready instanceof Promise) && j.held.idle)
      return this.#enqueueActing(() => this.#decide(j, ready, oldest, positions));
    // The lookup has started; the batch waits for it and for the jail's earlier held batches (not their actions).
    let applied: Promise<void> = Promise.resolve();
    return j.held
      .run(async () => {
        const failures = await ready;
        ({ applied } = await this.#decideQueued(() => this.#decide(j, failures, oldest, positions)));
      })
      .then(() => applied);
  }

  async #decide(
    j: Jail,
    found: readonly Failure[],
    oldest: Instant,
    positions: { jail: string; pos: FilePosition }[],
  ): Promise<void> {
    const cfg = j.loaded.spec.config;
    const jail = cfg.name;
    if (this.#jails.get(jail) !== j) return void this.#apply([], positions); // removed by a reload
    this.#forget(j, oldest);
    // The ignorecommand's verdicts first (they await), then the steps and the commit in one turn: a ban is in the
    // table from the turn it is committed in.
    const inputs: JailInput[] = [];
    for (const f of found) {
      if (f.time < oldest) continue;
      j.failures++;
      let ignoredBy: string | undefined;
      if (cfg.ignore.command && f.addr) {
        const v = await runIgnoreCommand(cfg.ignore.command, f);
        if (v.error) this.#deps.log.line('filter', 'ERROR', `[${jail}] ${v.error}`);
        if (v.ignore) ignoredBy = 'ignorecommand';
      }
      inputs.push({ kind: 'failure', failure: f, ...(ignoredBy ? { ignoredBy } : {}) });
    }
    this.#apply(
      inputs.flatMap((input) => this.#step(j, input)),
      positions,
    );
  }

  // Counting state no later failure can reach is dropped (jails' forgetDue): without this, every address that
  // failed once stayed in the table for the daemon's life (~110 bytes each).
  #forget(j: Jail, oldest: Instant): void {
    const before = forgetDue(j.loaded.spec.config, j.forgotUpTo, oldest);
    if (before === null) return;
    j.forgotUpTo = before;
    step(j.loaded.spec.config, j.state, { kind: 'forget', before }, this.#env());
  }

  // One step of a jail; the bans it decides go into the table at once, so that its next step sees them.
  #step(j: Jail, input: JailInput): Decision[] {
    const ds = step(j.loaded.spec.config, j.state, input, this.#env());
    for (const d of ds) if (d.kind === 'ban') this.#hold(d.ban);
    return ds;
  }

  // The table and the expiry timer change together, here and in #release only.
  #hold(b: Ban): void {
    if (this.#bans.add(b)) this.#expiry.set(banKey(b.jail, b.target.text), b.expiresAt);
  }
  #release(jail: string, target: string): void {
    this.#bans.remove(jail, target);
    this.#expiry.delete(banKey(jail, target));
  }

  // Commit first, then log, then act (the bans are in the table already: #step). Bans another jail made feed
  // overalljails counting. While the store cannot be written the commit is queued and the bans go on from memory.
  #apply(decisions: Decision[], positions: { jail: string; pos: FilePosition }[]): Ban[] {
    if (decisions.length === 0 && positions.length === 0) return [];
    this.#writer.commit(this.#deps.clock.now(), decisions, positions);
    this.#decided?.(decisions);
    this.#deps.log.decisions(decisions);
    const banned: Ban[] = [];
    const toApply = new Map<Jail, Ban[]>(); // per jail, in decision order
    for (const d of decisions) {
      if (d.kind !== 'ban') continue;
      const b = d.ban;
      banned.push(b);
      for (const [name, other] of this.#jails) {
        if (name !== b.jail && other.loaded.spec.config.increment?.overalljails)
          step(
            other.loaded.spec.config,
            other.state,
            { kind: 'history', target: b.target.text, at: b.bannedAt },
            this.#env(),
          );
      }
      const j = this.#jails.get(b.jail);
      if (!j) continue;
      j.bans++;
      const lines = j.backends.some((be) => be.note) ? linesOf(d.failures) : [];
      for (const be of j.backends) be.note?.(b, lines);
      const mine = toApply.get(j);
      if (mine) mine.push(b);
      else toApply.set(j, [b]);
    }
    // Each backend takes its jail's bans of this batch at once, joined with those queued behind its running call
    // (one nft transaction for a burst); a failure is retried by the Repairer, off this queue.
    for (const [j, bans] of toApply)
      for (const be of j.backends) void this.#applier.ban(j.loaded.spec.config.name, be, bans);
    return banned;
  }

  get repairs(): Repairer {
    return this.#repair;
  }
  get writer(): StoreWriter {
    return this.#writer;
  }

  // Expiries: their actions are waited for by the next caller (#enqueueActing) and by stop() (the drain).
  #expire(keys: string[]): void {
    const ds: Decision[] = [];
    for (const k of keys) {
      const ban = this.#bans.byKey(k);
      if (ban) ds.push({ kind: 'unban', jail: ban.jail, ban, reason: 'expired' });
    }
    this.#lift(ds);
  }

  // Commit, then each unban to its backends' lanes (behind the ban's own call, if that has not ended yet).
  #lift(ds: Decision[]): void {
    this.#writer.commit(this.#deps.clock.now(), ds);
    this.#decided?.(ds);
    for (const d of ds) {
      if (d.kind !== 'unban') continue;
      this.#release(d.jail, d.ban.target.text);
      this.#deps.log.decision(d);
      const j = this.#jails.get(d.jail);
      if (!j) continue;
      j.unbans++;
      for (const be of j.backends) void this.#applier.unban(d.jail, be, d.ban);
    }
  }

  // Every ban and unban committed from here on (after the commit, before the actions), in decision order.
  onDecided(fn: ((ds: readonly Decision[]) => void) | null): void {
    this.#decided = fn;
  }

  // Bans and unbans received from fleet hosts (fleet/link.ts, after fleet/event.ts checked them), in the queue
  // like any decision, in the order given: stored with their origin, audited, applied by the jail's own actions.
  // A jail's ignoreip/ignoreself hold for received bans too. An unban lifts only a received ban (of any origin),
  // never one decided here.
  receive(rs: readonly Received[]): Promise<ReceivedOutcome[]> {
    return this.#enqueueActing(() => {
      const out: ReceivedOutcome[] = [];
      let bans: Decision[] = [];
      for (const r of rs) {
        const j = this.#jails.get(r.jail);
        if (!j) {
          out.push('no-jail');
          continue;
        }
        if (r.kind === 'unban') {
          const held = this.#bans.of(r.jail).get(r.target.text);
          if (!held || held.origin === undefined) {
            out.push(held ? 'local' : 'not-held');
            continue;
          }
          this.#apply(bans, []); // the bans before it first, in order
          bans = [];
          this.#lift([{ kind: 'unban', jail: r.jail, ban: held, reason: 'fleet' }]);
          out.push('applied');
          continue;
        }
        const b = r.ban;
        if (this.#bans.of(r.jail).get(b.target.text)) {
          out.push('already');
          continue;
        }
        const cfg = j.loaded.spec.config;
        const inside = (a: Addr): boolean => b.target.contains(a);
        const ignored = b.target.isHost()
          ? matchIgnore(cfg.ignore, j.state.self, b.target.base.text, b.target.base)
          : (cfg.ignore.self && j.state.self.some(inside)) || cfg.ignore.cidrs.some((c) => inside(c.base))
            ? 'ignoreip/ignoreself inside the subnet'
            : null;
        if (ignored !== null) {
          out.push(`ignored: ${ignored}`);
          continue;
        }
        this.#hold(b);
        bans.push({ kind: 'ban', jail: r.jail, ban: b, failures: [], reason: r.reason });
        out.push('applied');
      }
      this.#apply(bans, []);
      return out;
    });
  }

  // After a re-sync from the fleet's snapshot: received bans no longer in it were lifted while this host could not
  // read the stream (behind its trim point), and are lifted here. `keep`: banKey()s. Returns how many.
  liftReceivedExcept(keep: ReadonlySet<string>): Promise<number> {
    return this.#liftWhere(null, (b) => b.origin !== undefined && !keep.has(banKey(b.jail, b.target.text)), 'fleet');
  }

  ban(jail: string, target: Cidr): Promise<{ ok: boolean; message: string; ban?: Ban }> {
    return this.#enqueueActing(() => {
      const j = this.#jails.get(jail);
      if (!j) return { ok: false, message: `no jail "${jail}"` };
      const [b] = this.#apply(this.#step(j, { kind: 'manual', target, at: this.#deps.clock.now() }), []);
      return b
        ? { ok: true, message: `banned ${b.target.text} in ${jail}`, ban: b }
        : { ok: false, message: `${target.text} is already banned in ${jail}` };
    });
  }

  unban(target: Cidr, jail: string | null): Promise<number> {
    return this.#liftWhere(jail, (b) => b.target.text === target.text, 'manual');
  }

  // Every ban of one jail (`flush`) or of all jails (`unban --all`), lifted as manual unbans.
  unbanAll(jail: string | null): Promise<number> {
    return this.#liftWhere(jail, () => true, 'manual');
  }

  // The bans in force of a jail (all: null) that `which` picks, lifted; how many. Resolves once their actions ran.
  #liftWhere(jail: string | null, which: (b: Ban) => boolean, reason: 'manual' | 'fleet'): Promise<number> {
    return this.#enqueueActing(() => {
      const ds: Decision[] = this.#bans
        .list(jail)
        .filter(which)
        .map((ban) => ({ kind: 'unban', jail: ban.jail, ban, reason }));
      this.#lift(ds);
      return ds.length;
    });
  }
  // The jails banning a target: its own ban, or a prefix/subnet ban holding its address (the jails' own lookup).
  jailsBanning(target: Cidr): string[] {
    return this.jailNames().filter((j) => this.#bans.of(j).covering(target.base, target.text) !== undefined);
  }
  settingsOf(jail: string): LoadedJail | undefined {
    return this.#jails.get(jail)?.loaded;
  }

  // The bans in force (an expiry due but not yet run included), in the order they were banned.
  list(jail: string | null): Ban[] {
    return this.#bans.list(jail);
  }
  status(): { jail: string; lines: number; failures: number; counting: number; bansTotal: number; banned: number }[] {
    return [...this.#jails.entries()].map(([name, j]) => ({
      jail: name,
      lines: j.lines,
      failures: j.failures,
      counting: j.state.tickets.size,
      bansTotal: j.bans,
      banned: this.#bans.count(name),
    }));
  }
  counters(): JailCounters[] {
    return [...this.#jails.entries()].map(([name, j]) => ({
      jail: name,
      filter: j.loaded.filter.name,
      lines: j.lines,
      matched: j.matched,
      failures: j.failures,
      counting: j.state.tickets.size,
      bans: j.bans,
      unbans: j.unbans,
      banned: this.#bans.count(name),
    }));
  }
  setSelf(addrs: Parameters<typeof step>[2] & { kind: 'self' }): void {
    this.#self = addrs;
    for (const j of this.#jails.values()) step(j.loaded.spec.config, j.state, addrs, this.#env());
  }
  // A fresh matcher of the jail's filter and the jail's settings (control's `test`): the jail's own are untouched.
  matcherOf(jail: string, now: () => number): { config: JailConfig; matcher: LineMatcher } | undefined {
    const j = this.#jails.get(jail);
    return j ? { config: j.loaded.spec.config, matcher: newLineMatcher(j.loaded.filter, now) } : undefined;
  }
  nextExpiry(): Instant | null {
    return this.#expiry.next();
  }
  // Wait for queued work and its actions, then stop the timer. Rules stay in place; the next start re-asserts them.
  async stop(): Promise<void> {
    await Promise.all([...this.#jails.values()].map((j) => j.held.run(() => undefined)));
    await this.#enqueue(() => undefined);
    await this.#applier.drain();
    this.#expiry.stop();
  }

  // Bans waiting in the applier's lanes for their backend call (metrics, tests).
  get actionsWaiting(): number {
    return this.#applier.waiting();
  }
}
