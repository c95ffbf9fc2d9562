import type { Addr } from '../../core/addr.js';
import type { Clock, Instant } from '../../core/clock.js';
import type { LoadedJail } from '../config/loaded.js';
import { runIgnoreCommand } from '../daemon/ignore-command.js';
import { Expiry } from '../expire.js';
import { ActiveBans, banKey } from '../jails/active-bans.js';
import { createJailState, forgetDue, step, type JailInput, type JailState } from '../jails/jail.js';
import type { Ban, Decision, Failure } from '../types.js';

// `sentryban replay`'s jails: the daemon's decisions on a past log, with no store and no action. Each jail steps
// the pure core (jails/jail.ts) as the BanManager does (daemon/manager.ts), on the replay's clock, which is the
// lines' own time: failures older than findtime at the time of reading are skipped, the ignorecommand is asked,
// a ban goes into the one table (ActiveBans) in the turn it is decided and feeds overalljails counting, and a
// ban ends at its expiry in log time, before any line written after it is counted.
// A line that counted: where it was read and its text.
export type LineRef = { source: string; line: number; text: string };
export type ReplayEvent =
  | { type: 'ban'; at: Instant; ban: Ban; reason: string; lines: LineRef[] }
  | { type: 'unban'; at: Instant; ban: Ban; reason: 'expired' }
  | { type: 'ignored'; at: Instant; jail: string; target: string; rule: string; line: LineRef };
export type JailTally = {
  jail: string;
  lines: number;
  failures: number; // failures the filter found (within findtime of the time read)
  counted: number; // failures counted toward a ban
  ignored: number; // by any rule, "already banned" included
  bans: number;
  unbans: number;
};
// Failures of one jail in one line, and the line.
export type Found = { failures: readonly Failure[]; ref: LineRef };

type Jail = {
  loaded: LoadedJail;
  state: JailState;
  tally: JailTally;
  recent: Map<string, Pending[]>;
  forgotUpTo: Instant; // counting state last forgotten for failures before this (see #forget)
};
type Pending = { at: Instant; ref: LineRef };

// bantime.rndtime adds random() * rndtime in the daemon; a replay adds half of it (its mean), so that the same
// logs always give the same timeline (the jail cases' harness does the same).
const HALF = (): number => 0.5;

// Ignore rules shown in the timeline; the others ("already banned", "before the last ban") are only counted.
const SHOWN = /^(ignoreip|ignoreself|ignorecommand|bantime already over)/;

export class ReplayJails {
  readonly #jails = new Map<string, Jail>();
  readonly #list: Jail[]; // the same, in order (run through per run of lines without failures)
  readonly #bans = new ActiveBans();
  readonly #expiry: Expiry;
  readonly #emit: (e: ReplayEvent) => void;
  readonly #random: () => number;
  readonly #onError: (text: string) => void;
  #now: Instant = -Infinity;
  #due: Instant = Infinity; // no expiry is due before this (none held earlier: the heap's earliest, at most)
  readonly #envNow: { now: Instant; random: () => number };
  readonly #overall: boolean; // some jail counts bans of every jail (bantime.increment.overalljails)
  // The step input of a failure, reused (the jail reads it within the step only).
  readonly #input: { kind: 'failure'; failure: Failure } = { kind: 'failure', failure: null as unknown as Failure };

  constructor(
    jails: readonly LoadedJail[],
    opts: { emit: (e: ReplayEvent) => void; self: Addr[]; random?: () => number; onError?: (t: string) => void },
  ) {
    this.#emit = opts.emit;
    this.#random = opts.random ?? HALF;
    this.#onError = opts.onError ?? (() => undefined);
    this.#envNow = { now: this.#now, random: this.#random };
    this.#overall = jails.some((j) => j.spec.config.increment?.overalljails === true);
    for (const loaded of jails) {
      const name = loaded.spec.config.name;
      const state = createJailState(this.#bans.of(name));
      step(loaded.spec.config, state, { kind: 'self', addrs: opts.self }, this.#env());
      const tally = { jail: name, lines: 0, failures: 0, counted: 0, ignored: 0, bans: 0, unbans: 0 };
      this.#jails.set(name, { loaded, state, tally, recent: new Map(), forgotUpTo: -Infinity });
    }
    this.#list = [...this.#jails.values()];
    // The expiry heap without its timer: the replay runs what is due itself (advance).
    const clock: Clock = { now: () => this.#now, at: () => () => undefined };
    this.#expiry = new Expiry(clock, (keys) => {
      for (const k of keys) this.#lift(k);
    });
  }

  #env(): { now: Instant; random: () => number } {
    return { now: this.#now, random: this.#random };
  }

  // Lifts every ban that ends at or before `t`, each at its own time, then moves the clock to `t` (never back).
  // Called per line with failures and per run of lines without: most times nothing is due before the earliest
  // expiry known (#due), and the heap is not looked at.
  advance(t: Instant): void {
    if (t < this.#due) {
      if (t > this.#now) this.#now = t;
      return;
    }
    let next = this.#expiry.next();
    for (; next !== null && next <= t; next = this.#expiry.next()) {
      this.#now = Math.max(this.#now, next);
      this.#expiry.runDue();
    }
    this.#due = next ?? Infinity;
    if (t > this.#now) this.#now = t;
  }

  #lift(key: string): void {
    const ban = this.#bans.byKey(key);
    if (!ban) return;
    this.#bans.remove(ban.jail, ban.target.text);
    const j = this.#jails.get(ban.jail);
    if (j) j.tally.unbans++;
    this.#emit({ type: 'unban', at: this.#now, ban, reason: 'expired' });
  }

  // Lines without failures, read by every jail (the clock already moved by advance()).
  quiet(lines: number): void {
    for (const j of this.#list) j.tally.lines += lines;
  }

  // One line read by one jail; `found` its failures (the line's clock already set by advance()).
  // Returns a promise only when an ignorecommand has to be asked.
  line(jail: string, found: Found): void | Promise<void> {
    const j = this.#jails.get(jail);
    if (!j) return;
    j.tally.lines++;
    if (found.failures.length === 0) return;
    const cfg = j.loaded.spec.config;
    const oldest = this.#now - cfg.findtimeSec * 1000;
    this.#forget(j, oldest);
    if (cfg.ignore.command) {
      const fresh = found.failures.filter((f) => f.time >= oldest);
      j.tally.failures += fresh.length;
      return this.#withCommand(j, fresh, found.ref);
    }
    // The common case, without a promise or an array per line: one failure, one step.
    let decisions: Decision[] | null = null;
    for (const failure of found.failures) {
      if (failure.time < oldest) continue;
      j.tally.failures++;
      this.#input.failure = failure;
      const ds = this.#step(j, this.#input);
      decisions = decisions ? decisions.concat(ds) : ds;
    }
    if (decisions) this.#decided(j, decisions, found.ref);
  }

  async #withCommand(j: Jail, fresh: Failure[], ref: LineRef): Promise<void> {
    const command = j.loaded.spec.config.ignore.command as string[];
    const inputs: JailInput[] = [];
    for (const failure of fresh) {
      let ignoredBy: string | undefined;
      if (failure.addr) {
        const v = await runIgnoreCommand(command, failure);
        if (v.error) this.#onError(`[${j.loaded.spec.config.name}] ${v.error}`);
        if (v.ignore) ignoredBy = 'ignorecommand';
      }
      inputs.push({ kind: 'failure', failure, ...(ignoredBy ? { ignoredBy } : {}) });
    }
    this.#decide(j, inputs, ref);
  }

  // The steps of one batch, then the bans' effects on the other jails, as BanManager.#decide and #apply.
  #decide(j: Jail, inputs: JailInput[], ref: LineRef): void {
    const decisions: Decision[] = [];
    for (const input of inputs) decisions.push(...this.#step(j, input));
    this.#decided(j, decisions, ref);
  }

  // Counting state no later failure can reach is dropped (jails' forgetDue; log time only grows here), with the
  // timeline's kept lines of those tickets: without this a replay held every address that ever failed once.
  #forget(j: Jail, oldest: Instant): void {
    const before = forgetDue(j.loaded.spec.config, j.forgotUpTo, oldest);
    if (before === null) return;
    j.forgotUpTo = before;
    step(j.loaded.spec.config, j.state, { kind: 'forget', before }, this.#env());
    j.recent.forEach((kept, key) => {
      if ((kept[kept.length - 1] as Pending).at < before) j.recent.delete(key);
    });
  }

  // One step; the bans it decides go into the table at once, so that the next step sees them (BanManager.#step).
  #step(j: Jail, input: JailInput): Decision[] {
    this.#envNow.now = this.#now;
    const ds = step(j.loaded.spec.config, j.state, input, this.#envNow);
    for (const d of ds) if (d.kind === 'ban' && this.#bans.add(d.ban)) this.#hold(d.ban);
    return ds;
  }

  #decided(j: Jail, decisions: readonly Decision[], ref: LineRef): void {
    this.#record(j, decisions, ref);
    if (!this.#overall) return;
    for (const d of decisions) {
      if (d.kind !== 'ban') continue;
      for (const [name, other] of this.#jails)
        if (name !== d.jail && other.loaded.spec.config.increment?.overalljails)
          step(
            other.loaded.spec.config,
            other.state,
            { kind: 'history', target: d.ban.target.text, at: d.ban.bannedAt },
            this.#env(),
          );
    }
  }

  #hold(b: Ban): void {
    if (b.expiresAt !== null && b.expiresAt < this.#due) this.#due = b.expiresAt;
    this.#expiry.set(banKey(b.jail, b.target.text), b.expiresAt);
  }

  // The timeline's view of a jail's decisions on one line. The lines counted toward each ticket are kept (the
  // last maxmatches still inside the ticket's window, as fail2ban's <matches>) and shown with the ban they led to.
  #record(j: Jail, ds: readonly Decision[], ref: LineRef): void {
    const t = j.tally;
    const cfg = j.loaded.spec.config;
    let closed: LineRef[] = [];
    for (const d of ds) {
      if (d.kind === 'found') {
        t.counted++;
        const key = d.counted?.key ?? d.failure.id;
        const ticket = d.counted?.ticket;
        const from = ticket ? ticket.first : d.failure.time - cfg.findtimeSec * 1000;
        const had = j.recent.get(key);
        const kept = had ?? [];
        while (kept.length > 0 && (kept[0] as Pending).at < from) kept.shift();
        kept.push({ at: d.failure.time, ref });
        if (kept.length > Math.max(1, cfg.maxmatches)) kept.shift();
        if (ticket) {
          if (!had) j.recent.set(key, kept); // (an address already kept: its list changed in place)
        } else {
          j.recent.delete(key);
          closed = kept.map((p) => p.ref);
        }
      } else if (d.kind === 'ignored') {
        t.ignored++;
        if (SHOWN.test(d.rule))
          this.#emit({
            type: 'ignored',
            at: d.failure.time,
            jail: d.jail,
            target: d.failure.id,
            rule: d.rule,
            line: ref,
          });
      } else if (d.kind === 'ban') {
        t.bans++;
        // A subnet ban (escalate) has no line of its own: its reason names the bans that led to it.
        this.#emit({
          type: 'ban',
          at: d.ban.bannedAt,
          ban: d.ban,
          reason: d.reason,
          lines: d.failures.length ? closed : [],
        });
      }
    }
  }

  // The bans in force at the end of the replay (an expiry due but not yet run left out).
  inForce(): Ban[] {
    return this.#bans.inForce(null, this.#now);
  }
  // Addresses a jail is counting now, and those whose counted lines the timeline keeps (both bounded by #forget).
  counting(jail: string): { tickets: number; kept: number } {
    const j = this.#jails.get(jail);
    return { tickets: j?.state.tickets.size ?? 0, kept: j?.recent.size ?? 0 };
  }
  tallies(): JailTally[] {
    return [...this.#jails.values()].map((j) => j.tally);
  }
  get now(): Instant {
    return this.#now;
  }
}
