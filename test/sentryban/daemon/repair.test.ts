import { describe, expect, it } from '@jest/globals';
import { parseCidr } from '../../../src/core/addr.js';
import { ManualClock } from '../../../src/core/clock.js';
import { Repairer } from '../../../src/sentryban/daemon/repair.js';
import type { AuditRow } from '../../../src/sentryban/store/audit.js';
import type { ActionBackend, ActionOutcome, Ban } from '../../../src/sentryban/types.js';

// The scheduling of repairs, driven by a ManualClock. The backend is a scripted stand-in (the part under test
// is the Repairer): each verb answers from a switch the test flips, and every call is recorded.
const T0 = Date.UTC(2026, 10, 25, 6, 0, 0);
const ban = (t: string, jail = 'app'): Ban => ({
  jail,
  target: parseCidr(t)!,
  bannedAt: T0,
  expiresAt: T0 + 3600_000,
  bantimeSec: 3600,
  banCount: 1,
});
const FAIL: ActionOutcome = {
  ok: false,
  failure: { kind: 'ActionFailed', backend: 'fake', argv: ['fw-tool', 'add'], exitCode: 1, stderr: 'refused' },
};

class Scripted implements ActionBackend {
  readonly name: string = 'fake:app';
  healthy = false;
  repairedText: string | null = null;
  calls: { verb: string; targets: string[] }[] = [];
  hold: Promise<void> | null = null; // a check waits for it (a slow firewall)
  async #answer(verb: string, bans: readonly Ban[]): Promise<ActionOutcome> {
    this.calls.push({ verb, targets: bans.map((b) => b.target.text) });
    if (verb === 'check' && this.hold) await this.hold;
    if (!this.healthy) return Promise.resolve(FAIL);
    return Promise.resolve(
      verb === 'check' && this.repairedText ? { ok: true, repaired: this.repairedText } : { ok: true },
    );
  }
  start(b: readonly Ban[]) {
    return this.#answer('start', b);
  }
  ban(b: Ban) {
    return this.#answer('ban', [b]);
  }
  unban(b: Ban) {
    return this.#answer('unban', [b]);
  }
  check(b: readonly Ban[]) {
    return this.#answer('check', b);
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

const setup = () => {
  const clock = new ManualClock(T0);
  const be = new Scripted();
  const store: Ban[] = [];
  const audit: AuditRow[] = [];
  const log: string[] = [];
  const r = new Repairer(new Map([['app', [be]]]), {
    clock,
    bansOf: (j) => store.filter((b) => b.jail === j),
    audit: (row) => audit.push(row),
    log: (level, text) => log.push(`${level} ${text}`),
  });
  // Advance in steps so each repair's promise settles before the next timer is due.
  const advance = async (ms: number): Promise<void> => {
    clock.advance(ms);
    await settle();
  };
  return { clock, be, store, audit, log, r, advance };
};

describe('Repairer: retries by check from the store, on the clock', () => {
  it('a failed ban is retried 1 s, 2 s, 4 s ... up to 60 s apart, without end, each failure audited and logged', async () => {
    const { be, store, audit, log, r, advance, clock } = setup();
    const b = ban('192.0.2.5');
    store.push(b);
    await r.act('app', be, 'ban', b);
    expect(r.stateOf('app', '192.0.2.5/32')).toEqual({ 'fake:app': 'failed' });
    const checkTimes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = be.calls.length;
      for (let t = 0; t < 60 && be.calls.length === before; t++) await advance(1000);
      checkTimes.push(clock.now() - T0);
    }
    expect(be.calls.slice(1).every((c) => c.verb === 'check')).toBe(true);
    const gaps = checkTimes.map((t, i) => (t - (i ? checkTimes[i - 1]! : 0)) / 1000);
    expect(gaps).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
    const failed = audit.filter((a) => a.kind === 'action-failed');
    expect(failed).toHaveLength(11);
    expect(failed[0]!.detail).toMatch(
      /^fake:app ban failed \(attempt 1; next retry in 1s at .*\): fw-tool add: exit 1 refused$/,
    );
    expect(failed[0]!.target).toBe('192.0.2.5/32');
    expect(JSON.parse(failed[1]!.data!)).toMatchObject({
      verb: 'check (retry)',
      attempt: 2,
      nextRetryAt: T0 + 1000 + 2000,
    });
    expect(failed[7]!.detail).toContain('attempt 8; next retry in 60s');
    expect(log.filter((l) => l.startsWith('ERROR [app] fake:app'))).toHaveLength(11);
    expect(r.health()).toEqual([
      {
        jail: 'app',
        backend: 'fake:app',
        inSync: false,
        failures: 11,
        checking: false,
        nextRetryAt: clock.now() + 60_000,
        lastError: 'fw-tool add: exit 1 refused',
      },
    ]);
    // It comes back: the next retry succeeds, is audited once, and the ban reads applied.
    be.healthy = true;
    await advance(60_000);
    const repaired = audit.filter((a) => a.kind === 'action-repaired');
    expect(repaired).toHaveLength(1);
    expect(repaired[0]!.detail).toBe('fake:app check (retry) back in sync after 11 failure(s)');
    expect(r.stateOf('app', '192.0.2.5/32')).toEqual({ 'fake:app': 'applied' });
    expect(r.health()[0]).toMatchObject({ inSync: true, failures: 0, nextRetryAt: null });
    expect(clock.pending()).toBe(0); // nothing more scheduled once in sync
  });

  it('out of sync, health always shows a check running or a retry planned (never neither while running)', async () => {
    const { be, store, r, advance } = setup();
    const b = ban('192.0.2.5');
    store.push(b);
    await r.act('app', be, 'ban', b);
    expect(r.health()[0]).toMatchObject({ inSync: false, checking: false, nextRetryAt: T0 + 1000 });
    let release = (): void => {};
    be.hold = new Promise((res) => {
      release = res;
    });
    await advance(1000); // the retry's check has started and waits (a slow firewall, a command near its timeout)
    expect(r.health()[0]).toMatchObject({ inSync: false, checking: true, nextRetryAt: null, failures: 1 });
    release();
    be.hold = null;
    await advance(0); // it failed: the next one is planned
    expect(r.health()[0]).toMatchObject({ inSync: false, checking: false, nextRetryAt: T0 + 1000 + 2000, failures: 2 });
    await r.stop();
    expect(r.health()[0]).toMatchObject({ inSync: false, checking: false, nextRetryAt: null });
  });

  it('the repair applies the store as it is then: a ban lifted meanwhile is not re-added, a new one is', async () => {
    const { be, store, r, advance } = setup();
    const a = ban('192.0.2.5');
    const c = ban('2001:db8::7');
    store.push(a);
    await r.act('app', be, 'ban', a);
    store.splice(0, 1); // lifted (expired or unbanned) before the retry
    await r.act('app', be, 'unban', a); // out of sync: not sent, the repair carries it
    store.push(c);
    await r.act('app', be, 'ban', c);
    expect(r.stateOf('app', '2001:db8::7/128')).toEqual({ 'fake:app': 'pending' });
    expect(be.calls.map((x) => x.verb)).toEqual(['ban']); // nothing sent to a backend that is out of sync
    be.healthy = true;
    await advance(1000);
    expect(be.calls[1]).toEqual({ verb: 'check', targets: ['2001:db8::7/128'] });
    expect(r.stateOf('app', '2001:db8::7/128')).toEqual({ 'fake:app': 'applied' });
  });

  it('a ban lifted while a repair runs is not left in force: the stale repair is run again from the store', async () => {
    const { be, store, r, advance, clock } = setup();
    const a = ban('192.0.2.5');
    store.push(a);
    await r.act('app', be, 'ban', a);
    be.healthy = true;
    let release = (): void => {};
    be.hold = new Promise((res) => {
      release = res;
    });
    await advance(1000); // the repair starts with a snapshot holding 192.0.2.5, and waits
    store.splice(0, 1);
    await r.act('app', be, 'unban', a); // left to the repair, which is running on the old snapshot
    be.hold = null;
    release();
    await advance(0);
    expect(be.calls.map((c) => `${c.verb} ${c.targets.join(',')}`)).toEqual([
      'ban 192.0.2.5/32',
      'check 192.0.2.5/32',
      'check ',
    ]);
    expect(r.health()[0]).toMatchObject({ inSync: true });
    expect(clock.pending()).toBe(0);
  });

  it('a failed start leaves every ban of the jail reported failed until a repair succeeds', async () => {
    const { be, store, r, advance, audit } = setup();
    store.push(ban('192.0.2.5'), ban('192.0.2.6'));
    await r.act('app', be, 'start', [...store]);
    expect(r.stateOf('app', '192.0.2.6/32')).toEqual({ 'fake:app': 'failed' });
    expect(audit[0]).toMatchObject({ kind: 'action-failed', target: null });
    expect(audit[0]!.detail).toMatch(/^fake:app start failed \(attempt 1; next retry in 1s/);
    await advance(1000); // still failing
    expect(r.stateOf('app', '192.0.2.5/32')).toEqual({ 'fake:app': 'failed' });
    be.healthy = true;
    await advance(2000);
    expect(r.stateOf('app', '192.0.2.5/32')).toEqual({ 'fake:app': 'applied' });
    expect(r.stateOf('app', '192.0.2.6/32')).toEqual({ 'fake:app': 'applied' });
  });

  it('periodic check: what a check repaired is audited and logged as a warning; an in-sync check leaves no row; 0 disables', async () => {
    const { be, store, r, advance, audit, log, clock } = setup();
    be.healthy = true;
    store.push(ban('192.0.2.5'));
    r.startPeriodic(300);
    await advance(299_000);
    expect(be.calls).toEqual([]);
    await advance(1000);
    expect(be.calls).toEqual([{ verb: 'check', targets: ['192.0.2.5/32'] }]);
    expect(audit).toEqual([]);
    be.repairedText = 'restored 192.0.2.5';
    await advance(300_000);
    expect(audit).toMatchObject([
      { kind: 'action-repaired', jail: 'app', detail: 'fake:app check (periodic); repaired: restored 192.0.2.5' },
    ]);
    expect(log).toEqual(['WARNING [app] fake:app check (periodic); repaired: restored 192.0.2.5']);
    await r.stop();
    expect(clock.pending()).toBe(0);
    const other = setup();
    other.r.startPeriodic(0);
    expect(other.clock.pending()).toBe(0);
  });

  it('a check run by hand answers what it did, and cancels the pending retry when it succeeds', async () => {
    const { be, store, r, clock } = setup();
    const b = ban('192.0.2.5');
    store.push(b);
    await r.act('app', be, 'ban', b);
    expect(clock.pending()).toBe(1);
    expect(await r.check('app')).toEqual([
      {
        jail: 'app',
        backend: 'fake:app',
        ok: false,
        repaired: null,
        error: 'fw-tool add: exit 1 refused',
        failures: 2,
      },
    ]);
    expect(clock.pending()).toBe(1);
    be.healthy = true;
    be.repairedText = 'restored 192.0.2.5';
    expect(await r.check(null)).toEqual([
      { jail: 'app', backend: 'fake:app', ok: true, repaired: 'restored 192.0.2.5', error: null, failures: 0 },
    ]);
    expect(clock.pending()).toBe(0);
    expect(await r.check('nope')).toEqual([]);
  });

  it('a backend that throws is a failure, not a crash; stop cancels every retry', async () => {
    const { be, store, r, clock, audit } = setup();
    be.ban = () => {
      throw new Error('bug');
    };
    const b = ban('192.0.2.5');
    store.push(b);
    await r.act('app', be, 'ban', b);
    expect(audit[0]!.detail).toContain('threw: bug');
    expect(clock.pending()).toBe(1);
    await r.stop();
    expect(clock.pending()).toBe(0);
  });
});

describe('Repairer: detached backends (notifiers)', () => {
  it('act returns before the attempt ends; its failure is handled when it arrives; stop waits for it', async () => {
    const clock = new ManualClock(T0);
    let release: (o: ActionOutcome) => void = () => {};
    const calls: string[] = [];
    const be: ActionBackend = {
      name: 'hook:app',
      detached: true,
      start: () => Promise.resolve({ ok: true }),
      ban: (b) => {
        calls.push(`ban ${b.target.text}`);
        return new Promise((res) => (release = res));
      },
      unban: () => Promise.resolve({ ok: true }),
      check: () => Promise.resolve({ ok: true }),
    };
    const audit: AuditRow[] = [];
    const r = new Repairer(new Map([['app', [be]]]), {
      clock,
      bansOf: () => [],
      audit: (row) => audit.push(row),
      log: () => {},
    });
    let returned = false;
    await r.act('app', be, 'ban', ban('192.0.2.5')).then(() => (returned = true));
    expect(returned).toBe(true); // the ban's attempt is still running
    expect(calls).toEqual(['ban 192.0.2.5/32']);
    expect(r.stateOf('app', '192.0.2.5/32')).toEqual({ 'hook:app': 'pending' });
    let stopped = false;
    const stopping = r.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    release(FAIL);
    await stopping;
    expect(r.stateOf('app', '192.0.2.5/32')).toEqual({ 'hook:app': 'failed' });
    expect(audit.map((a) => a.kind)).toEqual(['action-failed']);
  });
});

// A backend that takes a batch (nftables: one transaction): the Repairer hands it the batch in one call, and a
// failed batch is treated as each of its bans failing.
class Batched extends Scripted {
  override readonly name = 'batch:app';
  banMany(bs: readonly Ban[]) {
    this.calls.push({ verb: 'banMany', targets: bs.map((b) => b.target.text) });
    return Promise.resolve(this.healthy ? { ok: true as const } : FAIL);
  }
}

describe('Repairer.banMany', () => {
  const batched = () => {
    const clock = new ManualClock(T0);
    const be = new Batched();
    const plain = new Scripted();
    const store: Ban[] = [];
    const audit: AuditRow[] = [];
    const r = new Repairer(new Map([['app', [be, plain]]]), {
      clock,
      bansOf: (j) => store.filter((b) => b.jail === j),
      audit: (row) => audit.push(row),
      log: () => undefined,
    });
    return { clock, be, plain, store, audit, r };
  };
  const three = ['192.0.2.1', '192.0.2.2', '2001:db8::3'].map((t) => ban(t));

  it('one call for a batch where the backend has banMany, one ban() each where it has not, in order', async () => {
    const { be, plain, r } = batched();
    be.healthy = plain.healthy = true;
    await r.banMany('app', be, three);
    await r.banMany('app', plain, three);
    expect(be.calls).toEqual([{ verb: 'banMany', targets: ['192.0.2.1/32', '192.0.2.2/32', '2001:db8::3/128'] }]);
    expect(plain.calls.map((c) => [c.verb, ...c.targets])).toEqual([
      ['ban', '192.0.2.1/32'],
      ['ban', '192.0.2.2/32'],
      ['ban', '2001:db8::3/128'],
    ]);
    for (const b of three)
      expect(r.stateOf('app', b.target.text)).toEqual({ 'batch:app': 'applied', 'fake:app': 'applied' });
  });

  it('a failed batch marks each of its bans failed, is audited once, and the repair from the store puts them in', async () => {
    const { clock, be, store, audit, r } = batched();
    store.push(...three);
    await r.banMany('app', be, three);
    for (const b of three) expect(r.stateOf('app', b.target.text)['batch:app']).toBe('failed');
    const failed = audit.filter((a) => a.kind === 'action-failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.detail).toMatch(/^batch:app ban of 3 targets \(192\.0\.2\.1\/32 first\) failed \(attempt 1;/);
    be.healthy = true;
    clock.advance(1000);
    await settle();
    expect(be.calls.at(-1)).toEqual({ verb: 'check', targets: ['192.0.2.1/32', '192.0.2.2/32', '2001:db8::3/128'] });
    for (const b of three) expect(r.stateOf('app', b.target.text)['batch:app']).toBe('applied');
  });
});
