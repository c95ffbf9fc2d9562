import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Redis } from 'ioredis';
import type { Clock, Instant } from '../../core/clock.js';
import { listHas, type FleetConfig } from '../config/fleet-settings.js';
import { banKey } from '../jails/active-bans.js';
import type { AuditRow } from '../store/audit.js';
import type { Store } from '../store/store.js';
import type { Decision } from '../types.js';
import { decodeEntry, encodeEvent, receivedExpiry, type DecodeContext, type FleetEvent } from './event.js';
import type { FleetManager, Received } from './received.js';
import { OwnBatches } from './own-batches.js';
import { compareIds, idBefore } from './stream-id.js';

// The fleet's Redis side (docs/fleet.md). One stream `<name>` holds every ban and unban in order; a hash
// `<name>:snapshot` holds the bans in force (one field per jail and target, kept by publishers in the same MULTI
// as their XADD) for hosts that fell behind the stream's trim point.
// - Publishing: each committed local ban and manual unban of a publishing jail goes to an outbox (in the store,
//   so it outlives a restart) and is sent in order, in batches, when Redis is reachable.
// - Receiving: a connection of its own blocks on XREAD from the last position (kept in the store). On every
//   (re)connect it checks whether entries after that position were trimmed (or the stream was reset) and then
//   re-syncs from the snapshot instead.
// BLOCK has a timeout (BLOCK_MS) only as a heartbeat: an entry is returned the moment it is added; a link that
// went silent (a cut cable sends no reset) shows as a socket with no reply within SOCKET_TIMEOUT_MS.
export type FleetCounters = {
  published: number; // events Redis took
  received: number; // entries read (own events excluded)
  applied: number; // bans and unbans that changed this host
  refused: number; // entries that failed their checks (audited)
  expired: number; // bans that had ended before they arrived (audited)
  duplicate: number; // repeats of an event already taken, and bans already in force
  outbox: number; // events waiting to be published
  lagMs: number; // publish time to arrival, of the last ban received
  resyncs: number;
};
export type FleetDeps = {
  config: FleetConfig;
  manager: FleetManager;
  store: () => Store; // the writer's current handle
  audit: (row: AuditRow) => void;
  clock: Clock;
  log: (level: 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR', text: string) => void;
  receives: (jail: string) => boolean; // a jail of this host in `receive:`
  longestBantimeSec: number; // of the publishing jails; -1: one is permanent (the stream is trimmed by count only)
  retryMaxMs?: number;
};
const BLOCK_MS = 2000;
const SOCKET_TIMEOUT_MS = BLOCK_MS + 3000;
const BATCH = 500;
const SEEN = 100_000; // event ids remembered, to drop a repeat (an outbox entry sent again after a crash)
const POSITION = 'position';
const SAVE_MS = 1000; // the longest a position moved only past entries that changed nothing waits to be written
// One outbox batch. KEYS: the stream, the snapshot. ARGV: origin, MINID ('' for none), maxlen, and the batch as
// one text, a line per op: `b<TAB>key<TAB>fields` (a ban) or `u<TAB>key<TAB>fields` (an unban), the fields as the
// JSON list the outbox row holds, or `p<TAB>key` (a ban of ours ended). One argument a batch rather than a dozen
// an event: each argument was a few strings made by the client (its RESP framing), the most of what a ban here
// allocated. A ban sets its snapshot field to `origin\n<the fields as JSON>` (the text as sent), an unban deletes
// it, a ban's end deletes it only when this origin wrote it (a later ban of another host stays). Then the stream
// is trimmed to about maxlen entries. Returns the entries added, the id of the entry before them ('' for none) and
// the last one's (own-batches.ts).
const PUBLISH = `local stream, snap, origin, minid = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local mine, n, last = origin .. '\\n', 0, ''
local top = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
local before = top[1] and top[1][1] or ''
for line in string.gmatch(ARGV[4], '[^\\n]+') do
  local op, key, json = string.match(line, '^(%a)\\t([^\\t]*)\\t?(.*)$')
  if op == 'p' then
    local v = redis.call('HGET', snap, key)
    if v and string.sub(v, 1, #mine) == mine then redis.call('HDEL', snap, key) end
  elseif op == 'b' or op == 'u' then
    local f = cjson.decode(json)
    if minid ~= '' then last = redis.call('XADD', stream, 'MINID', '~', minid, '*', unpack(f))
    else last = redis.call('XADD', stream, '*', unpack(f)) end
    if op == 'b' then redis.call('HSET', snap, key, mine .. json) else redis.call('HDEL', snap, key) end
    n = n + 1
  end
end
redis.call('XTRIM', stream, 'MAXLEN', '~', ARGV[3])
return {n, before, last}`;
type Publisher = { sentrybanPublish(...args: (string | number)[]): Promise<[number, string, string]> };
const OWN_WAIT_MS = 50; // the longest the reader waits for a batch's reply before it reads
// An event (its line in a PUBLISH batch) or a ban's end here (['#prune', key] in the outbox, `p` in a batch).
type Op = { rowId: number | null; line: string; isEvent: boolean };
const PRUNE = '#prune';
// The op of an outbox row's fields (`text`: their JSON, as stored and as sent).
const opOf = (rowId: number | null, fields: readonly string[], text: string): Op => {
  if (fields[0] === PRUNE) return newOp(rowId, 'p', fields[1] ?? '', text);
  const at = (k: string): string => fields[fields.indexOf(k) + 1] ?? '';
  return newOp(rowId, at('kind') === 'ban' ? 'b' : 'u', `${at('jail')} ${at('target')}`, text);
};
const newOp = (rowId: number | null, kind: 'b' | 'u' | 'p', key: string, text: string): Op =>
  kind === 'p'
    ? { rowId, line: `p\t${key}`, isEvent: false }
    : { rowId, line: `${kind}\t${key}\t${text}`, isEvent: true };
type State = 'connecting' | 'connected' | 'lost';

export class FleetLink {
  readonly #d: FleetDeps;
  readonly #cfg: FleetConfig;
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #snapshot: string;
  readonly #queue: Op[] = [];
  readonly #seen = new Set<string>();
  readonly #own = new OwnBatches();
  readonly #counters: FleetCounters = {
    published: 0,
    received: 0,
    applied: 0,
    refused: 0,
    expired: 0,
    duplicate: 0,
    outbox: 0,
    lagMs: 0,
    resyncs: 0,
  };
  #position: string | null;
  #unsaved = false; // the position moved past entries that changed nothing here, not yet written
  #savedAt = -Infinity;
  #flushing = false;
  #stopped = false;
  #state: State = 'connecting';
  #reader: Promise<void> | null = null;
  #wake: (() => void) | null = null;

  constructor(deps: FleetDeps) {
    this.#d = deps;
    this.#cfg = deps.config;
    this.#snapshot = `${this.#cfg.name}:snapshot`;
    const retryMax = deps.retryMaxMs ?? 2000;
    const options = {
      host: this.#cfg.host,
      port: this.#cfg.port,
      db: this.#cfg.db,
      ...(this.#cfg.username !== null ? { username: this.#cfg.username } : {}),
      ...(this.#cfg.password !== null ? { password: this.#cfg.password } : {}),
      // rediss://: the server's certificate is checked against the system's CAs or `cafile`, for the URL's host
      // (SNI only for a name: an address is not sent as one).
      ...(this.#cfg.tls
        ? {
            tls: {
              ...(this.#cfg.caFile ? { ca: readFileSync(this.#cfg.caFile) } : {}),
              ...(isIP(this.#cfg.host) ? {} : { servername: this.#cfg.host }),
            },
          }
        : {}),
      lazyConnect: true,
      enableOfflineQueue: false, // a command while down fails at once: the outbox keeps the events
      autoResendUnfulfilledCommands: false, // a read lost with the link is started again after the catch-up check
      maxRetriesPerRequest: 0,
      connectTimeout: 5000,
      socketTimeout: SOCKET_TIMEOUT_MS,
      retryStrategy: (times: number): number => Math.min(retryMax, 50 * 2 ** Math.min(times, 10)),
    };
    this.#pub = new Redis({ ...options, connectionName: `sentryban-pub-${this.#cfg.origin}` });
    this.#sub = new Redis({ ...options, connectionName: `sentryban-sub-${this.#cfg.origin}` });
    this.#pub.defineCommand('sentrybanPublish', { numberOfKeys: 2, lua: PUBLISH }); // EVALSHA, EVAL when unknown
    this.#position = this.#store((s) => s.fleetState(POSITION)) ?? null;
  }

  counters(): FleetCounters {
    return { ...this.#counters, outbox: this.#queue.length };
  }

  start(): void {
    for (const r of this.#store((s) => s.outboxPeek(1_000_000)) ?? [])
      this.#queue.push(opOf(r.id, JSON.parse(r.text) as string[], r.text));
    this.#d.manager.onDecided((ds) => this.#decided(ds));
    for (const c of [this.#pub, this.#sub]) {
      c.on('ready', () => this.#changed());
      c.on('close', () => this.#changed());
      c.on('error', (e: Error) => this.#error(e)); // said once per state change, not per retry
    }
    this.#pub.on('ready', () => void this.#flush());
    void this.#pub.connect().catch(() => undefined);
    void this.#sub.connect().catch(() => undefined);
    this.#reader = this.#read();
    void this.#flush();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#d.manager.onDecided(null);
    this.#wake?.();
    this.#sub.disconnect();
    await this.#reader;
    if (this.#unsaved) this.#savePosition();
    if (this.#pub.status === 'ready') await this.#flush();
    this.#pub.disconnect();
  }

  // One log line per state change of the pair of connections.
  #changed(): void {
    const up = this.#pub.status === 'ready' && this.#sub.status === 'ready';
    const next: State = up ? 'connected' : this.#state === 'connecting' ? 'connecting' : 'lost';
    if (next === this.#state || this.#stopped) return;
    this.#state = next;
    const where = `${this.#cfg.url} (stream ${this.#cfg.name}, host ${this.#cfg.origin})`;
    if (next === 'connected') this.#d.log('NOTICE', `fleet: connected to ${where}`);
    else this.#d.log('WARNING', `fleet: lost ${where}; local bans go on, events wait in the outbox`);
    if (next === 'connected') this.#wake?.();
  }

  // Before the first connection, why it cannot be made (refused, AUTH, TLS), once.
  #error(e: Error): void {
    if (this.#state !== 'connecting' || this.#stopped) return;
    this.#state = 'lost';
    this.#d.log('WARNING', `fleet: cannot reach ${this.#cfg.url}: ${e.message}; retrying, local bans go on`);
  }

  #store<T>(fn: (s: Store) => T): T | undefined {
    try {
      return fn(this.#d.store());
    } catch {
      return undefined; // the store writer says when the store is down; the outbox is kept in memory meanwhile
    }
  }

  // --- publishing ---

  #decided(ds: readonly Decision[]): void {
    const ops: { fields: string[]; key: string; kind: 'b' | 'u' | 'p' }[] = [];
    const now = this.#d.clock.now();
    const random = randomBytes(8 * ds.length).toString('hex'); // 16 hex digits of it per event id
    for (const [k, d] of ds.entries()) {
      if (d.kind !== 'ban' && d.kind !== 'unban') continue;
      if (!listHas(this.#cfg.publish, d.jail)) continue;
      // A received ban is never sent again (no echo), nor its lift by the fleet or at its end here; an operator's
      // unban here is sent whatever the ban's origin.
      if (d.kind === 'ban' && d.ban.origin !== undefined) continue;
      if (d.kind === 'unban' && d.reason !== 'manual') {
        if (d.reason === 'expired' && d.ban.origin === undefined) {
          const key = `${d.jail} ${d.ban.target.text}`;
          ops.push({ fields: [PRUNE, key], key, kind: 'p' });
        }
        continue;
      }
      const e: FleetEvent = {
        kind: d.kind,
        id: `${this.#cfg.origin}-${random.slice(16 * k, 16 * k + 16)}`,
        origin: this.#cfg.origin,
        jail: d.jail,
        target: d.ban.target,
        bannedAt: d.kind === 'ban' ? d.ban.bannedAt : now,
        expiresAt: d.kind === 'ban' ? d.ban.expiresAt : null,
        bantimeSec: d.kind === 'ban' ? d.ban.bantimeSec : -1,
        reason: d.kind === 'ban' ? d.reason : 'manual unban',
      };
      ops.push({ fields: encodeEvent(e), key: `${d.jail} ${d.ban.target.text}`, kind: d.kind === 'ban' ? 'b' : 'u' });
    }
    if (ops.length === 0) return;
    const texts = ops.map((o) => JSON.stringify(o.fields));
    const ids = this.#store((s) => s.outboxAdd(texts));
    ops.forEach((o, i) => this.#queue.push(newOp(ids?.[i] ?? null, o.kind, o.key, texts[i] as string)));
    void this.#flush();
  }

  // The outbox, in order, in batches of one script each (PUBLISH: each event's XADD and its snapshot change, in
  // one atomic step as a MULTI was, for one command and one small reply a batch).
  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#queue.length > 0 && this.#pub.status === 'ready') {
        const batch = this.#queue.slice(0, BATCH);
        const longest = this.#d.longestBantimeSec;
        let events = 0;
        for (const op of batch) if (op.isEvent) events++;
        const args: (string | number)[] = [
          this.#cfg.name,
          this.#snapshot,
          this.#cfg.origin,
          longest >= 0 ? `${this.#d.clock.now() - longest * 1000}-0` : '',
          this.#cfg.maxlen,
          batch.map((op) => op.line).join('\n'),
        ];
        try {
          const [, before, last] = await this.#own.sending(
            (this.#pub as unknown as Publisher).sentrybanPublish(...args),
          );
          this.#own.sent(String(before), String(last));
        } catch (e) {
          // the link went down (the batch stays, sent again on the next 'ready'), or Redis refused it
          if (this.#pub.status === 'ready') this.#d.log('ERROR', `fleet: publishing failed: ${(e as Error).message}`);
          return;
        }
        this.#queue.splice(0, batch.length);
        this.#counters.published += events;
        const last = batch.reduce((m, o) => (o.rowId !== null && o.rowId > m ? o.rowId : m), 0);
        if (last > 0) this.#store((s) => s.outboxDone(last));
      }
    } finally {
      this.#flushing = false;
    }
  }

  // --- receiving ---

  #ctx(): DecodeContext {
    return { now: this.#d.clock.now(), self: this.#cfg.origin, jails: this.#d.receives, origins: this.#cfg.origins };
  }

  // Each turn reads what follows the position together with the stream's trim state, in one MULTI (so that no
  // trim can fall between the check and the read); when nothing follows, a blocking XREAD waits for the next entry
  // (it only wakes the loop: the entries are then read by the MULTI, which sees a trim done in the same MULTI as
  // the XADD that woke it).
  async #read(): Promise<void> {
    let idle = false;
    while (!this.#stopped) {
      if (this.#sub.status !== 'ready') {
        idle = false;
        await new Promise<void>((res) => {
          this.#wake = res;
          const t = setTimeout(res, 1000); // the state may have changed before #wake was set
          t.unref();
        });
        this.#wake = null;
        continue;
      }
      try {
        if (idle)
          await this.#sub.call('xread', [
            'COUNT',
            1,
            'BLOCK',
            BLOCK_MS,
            'STREAMS',
            this.#cfg.name,
            this.#position ?? '$',
          ]);
        idle = (await this.#turn()) === 0;
        if (idle && this.#unsaved) this.#savePosition();
      } catch (e) {
        idle = false;
        if (!this.#stopped && this.#sub.status === 'ready') {
          this.#d.log('ERROR', `fleet: reading the stream failed: ${(e as Error).message}`);
          await new Promise((res) => setTimeout(res, 1000).unref());
        }
      }
    }
  }

  // One read from the position; how many entries it took. The read starts just before the position: when the
  // position's own entry comes back first, nothing after it was trimmed (trimming, MAXLEN or MINID, takes the
  // oldest entries first) and the rest is read, in one command. Otherwise (trimmed up to or past the position, a
  // stream reset or gone, no position yet) the turn checks the stream's trim state (#checkedTurn).
  async #turn(): Promise<number> {
    await this.#own.settled(OWN_WAIT_MS);
    if (this.#position !== null) {
      const past = this.#own.positionPast(this.#position);
      if (past !== this.#position) this.#setPosition(past, this.#d.clock.now() - this.#savedAt >= SAVE_MS);
    }
    const pos = this.#position;
    const from = pos === null ? null : idBefore(pos);
    if (from === null) return this.#checkedTurn();
    const r = (await this.#sub.call('xread', ['COUNT', BATCH + 1, 'STREAMS', this.#cfg.name, from])) as
      [string, [string, string[]][]][] | null;
    const entries = r?.[0]?.[1] ?? [];
    if (entries[0]?.[0] !== pos) return this.#checkedTurn();
    entries.shift();
    if (entries.length > 0) await this.#take(entries);
    return entries.length;
  }

  // The turn with the trim state: XINFO STREAM and the read in one MULTI (so that no trim can fall between the check
  // and the read). Entries after the position that were trimmed before they were read, or a stream that is not the
  // one read before (Redis lost it): re-sync from the snapshot.
  async #checkedTurn(): Promise<number> {
    const pos = this.#position;
    const r = await this.#sub
      .multi([
        ['xinfo', 'STREAM', this.#cfg.name],
        ['xread', 'COUNT', BATCH, 'STREAMS', this.#cfg.name, pos ?? '0-0'],
      ])
      .exec();
    if (!r) throw new Error('read aborted');
    const [infoErr, flat] = r[0] ?? [null, null];
    if (infoErr && !/no such key/i.test(infoErr.message)) throw infoErr;
    const info = new Map<string, unknown>();
    if (!infoErr && Array.isArray(flat))
      for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
    const idOf = (k: string): string => (typeof info.get(k) === 'string' ? (info.get(k) as string) : '0-0');
    const first = info.get('first-entry');
    const firstId = Array.isArray(first) && typeof first[0] === 'string' ? first[0] : null;
    const last = idOf('last-generated-id');
    // Trimming (MAXLEN/MINID) does not move max-deleted-entry-id (only XDEL does): entries after the position were
    // lost when the stream's first entry is past it (or the stream is empty and ends past it). When exactly the
    // entries up to the position were trimmed this re-syncs needlessly, which is harmless.
    const gone = firstId ?? last;
    const deleted = idOf('max-deleted-entry-id');
    const everTrimmed = Number(info.get('entries-added')) > Number(info.get('length'));
    if (pos === null) return (await this.#resync('first start', false), 0);
    if (compareIds(pos, last) > 0)
      return (await this.#resync(`the stream was reset (at ${pos}, stream at ${last})`, false), 0);
    if (everTrimmed && (compareIds(pos, gone) < 0 || compareIds(pos, deleted) < 0))
      return (await this.#resync(`behind the trim point (at ${pos}, stream from ${firstId ?? 'empty'})`, true), 0);
    const [readErr, read] = r[1] ?? [null, null];
    if (readErr) throw readErr;
    const entries = (read as [string, [string, string[]][]][] | null)?.[0]?.[1] ?? [];
    if (entries.length > 0) await this.#take(entries);
    return entries.length;
  }

  // Only when entries were trimmed is the snapshot known to be whole: a stream that is gone or reset (Redis lost
  // its data) says nothing of the bans held here, which then end at their own time.
  async #resync(why: string, liftMissing: boolean): Promise<void> {
    const r = await this.#sub
      .multi([
        ['hgetall', this.#snapshot],
        ['xrevrange', this.#cfg.name, '+', '-', 'COUNT', 1],
      ])
      .exec();
    if (!r || r.some(([e]) => e !== null)) throw new Error('snapshot read failed');
    const snap = (r[0]?.[1] ?? {}) as Record<string, string>;
    const top = (r[1]?.[1] ?? []) as [string, string[]][];
    const received: Received[] = [];
    const keep = new Set<string>();
    const ctx = this.#ctx();
    for (const value of Object.values(snap)) {
      const nl = value.indexOf('\n');
      let fields: unknown;
      try {
        fields = JSON.parse(value.slice(nl + 1));
      } catch {
        fields = null;
      }
      if (!Array.isArray(fields) || !fields.every((x) => typeof x === 'string')) {
        this.#refuse('snapshot entry is not a list of strings', null, null, 'snapshot');
        continue;
      }
      const d = decodeEntry(fields, ctx);
      if (!d.ok) {
        if ('reason' in d) this.#refuse(d.reason, d.jail, d.target, 'snapshot');
        continue;
      }
      const e = d.event;
      if (e.kind !== 'ban') continue;
      const rec = this.#toReceived(e, ctx.now);
      if (rec) {
        received.push(rec);
        keep.add(banKey(e.jail, e.target.text));
      }
    }
    const outcomes = await this.#d.manager.receive(received);
    const lifted = liftMissing ? await this.#d.manager.liftReceivedExcept(keep) : 0;
    this.#counters.applied += outcomes.filter((o) => o === 'applied').length + lifted;
    this.#counters.resyncs++;
    this.#setPosition(top[0]?.[0] ?? '0-0');
    this.#d.log(
      'NOTICE',
      `fleet: re-synced from the snapshot (${why}): ${keep.size} ban(s) in force, ` +
        `${outcomes.filter((o) => o === 'applied').length} applied, ${lifted} lifted`,
    );
  }

  async #take(entries: [string, string[]][]): Promise<void> {
    const ctx = this.#ctx();
    const received: Received[] = [];
    const audited = this.#counters.refused + this.#counters.expired;
    for (const [, fields] of entries) {
      const d = decodeEntry(fields, ctx);
      if (!d.ok) {
        if ('reason' in d) this.#refuse(d.reason, d.jail, d.target, 'stream');
        continue;
      }
      const e = d.event;
      this.#counters.received++;
      if (this.#seen.has(e.id)) {
        this.#counters.duplicate++;
        continue;
      }
      this.#remember(e.id);
      if (e.kind === 'unban') {
        received.push({ kind: 'unban', jail: e.jail, target: e.target });
        continue;
      }
      this.#counters.lagMs = Math.max(0, ctx.now - e.bannedAt);
      const rec = this.#toReceived(e, ctx.now);
      if (rec) received.push(rec);
    }
    const outcomes = received.length > 0 ? await this.#d.manager.receive(received) : [];
    for (const o of outcomes) {
      if (o === 'applied') this.#counters.applied++;
      else if (o === 'already') this.#counters.duplicate++;
    }
    const last = entries[entries.length - 1];
    // A turn of our own entries only (or of repeats) moves the position in memory and writes it at most once a
    // second, and before the reader waits or stops: read again after a crash, those entries change nothing. A turn
    // that handed bans or unbans to the manager, or audited an entry, writes it now.
    const changed = received.length > 0 || this.#counters.refused + this.#counters.expired > audited;
    if (last) this.#setPosition(last[0], changed || ctx.now - this.#savedAt >= SAVE_MS);
  }

  // A checked ban with its end here; null (audited) when it had ended before it arrived.
  #toReceived(e: FleetEvent, now: Instant): Received | null {
    const end = receivedExpiry(e, this.#cfg.policy, now);
    if (end === 'expired') {
      this.#counters.expired++;
      this.#d.audit({
        at: now,
        jail: e.jail,
        target: e.target.text,
        kind: 'fleet-expired',
        detail:
          `fleet ban from ${e.origin} ended ${new Date(e.expiresAt ?? now).toISOString()}, ` +
          'before it arrived: not applied',
        data: JSON.stringify({ origin: e.origin, id: e.id }),
      });
      return null;
    }
    return {
      kind: 'ban',
      jail: e.jail,
      reason: `fleet ban from ${e.origin}: ${e.reason}`,
      ban: {
        jail: e.jail,
        target: e.target,
        bannedAt: now,
        expiresAt: end,
        bantimeSec: end === null ? -1 : Math.max(1, Math.ceil((end - now) / 1000)),
        banCount: 1,
        origin: e.origin,
      },
    };
  }

  #refuse(reason: string, jail: string | null, target: string | null, from: 'stream' | 'snapshot'): void {
    this.#counters.refused++;
    this.#d.audit({
      at: this.#d.clock.now(),
      jail: jail ?? '-',
      target,
      kind: 'fleet-refused',
      detail: `fleet ${from} entry refused: ${reason}`,
      data: null,
    });
    this.#d.log('WARNING', `fleet: ${from} entry refused: ${reason}`);
  }

  #remember(id: string): void {
    this.#seen.add(id);
    if (this.#seen.size > SEEN)
      for (const old of this.#seen) {
        this.#seen.delete(old);
        break;
      }
  }

  #setPosition(id: string, save = true): void {
    this.#position = id;
    this.#unsaved = !save;
    if (save) this.#savePosition();
  }
  #savePosition(): void {
    this.#unsaved = false;
    this.#savedAt = this.#d.clock.now();
    const id = this.#position;
    if (id !== null) this.#store((s) => s.setFleetState(POSITION, id));
  }
}
