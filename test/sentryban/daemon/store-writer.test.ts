import { afterEach, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { parseAddr, parseCidr } from '../../../src/core/addr.js';
import { ManualClock } from '../../../src/core/clock.js';
import { StoreWriter } from '../../../src/sentryban/daemon/store-writer.js';
import { Store } from '../../../src/sentryban/store/store.js';
import type { Ban, Decision, Failure } from '../../../src/sentryban/types.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// The writer over a real store whose writes fail for real: SQLite's max_page_count makes them fail with
// SQLITE_FULL, exactly as a full disk does (the real full disk and read-only folder: test/reliability/torn-state).
const tmps: (() => void)[] = [];
afterEach(() => {
  while (tmps.length) tmps.pop()?.();
});
type Line = { level: string; text: string };
const setup = (maxQueued?: number) => {
  const t = makeTmpDir('sentryban-writer-');
  tmps.push(t.cleanup);
  const path = join(t.dir, 'state', 'sentryban.sqlite3');
  const r = Store.open(path);
  if (!r.ok) throw new Error(r.message);
  const clock = new ManualClock(1_000_000);
  const log: Line[] = [];
  const w = new StoreWriter(r.store, {
    clock,
    path,
    log: (level, text) => log.push({ level, text }),
    reopen: () => Store.open(path),
    ...(maxQueued ? { maxQueued } : {}),
  });
  tmps.push(() => {
    try {
      w.store.close();
    } catch {
      /* closed */
    }
  });
  const fill = (): void => r.store.limitPages(r.store.pageCount());
  return { w, store: r.store, clock, log, fill, free: () => r.store.limitPages(null) };
};
const failure = (id: string): Failure => ({
  id,
  addr: parseAddr(id),
  time: 1000,
  filter: 'sshd',
  source: 'auth.log',
  groups: {},
  lines: [`Failed password from ${id} ${'x'.repeat(5000)}`],
});
const ban = (t: string): Ban => ({
  jail: 'sshd',
  target: parseCidr(t)!,
  bannedAt: 1000,
  expiresAt: 601_000,
  bantimeSec: 600,
  banCount: 1,
});
const found = (id: string): Decision => ({ kind: 'found', jail: 'sshd', failure: failure(id), count: 1 });
const banOf = (t: string): Decision => ({
  kind: 'ban',
  jail: 'sshd',
  ban: ban(t),
  failures: [failure(t)],
  reason: 'test',
});
const liftOf = (t: string): Decision => ({ kind: 'unban', jail: 'sshd', ban: ban(t), reason: 'expired' });

describe('StoreWriter: the store full, then back', () => {
  it('queues in order while full, says so once, probes with backoff, writes everything in order when it can', () => {
    const { w, store, clock, log, fill, free } = setup();
    expect(w.commit(clock.now(), [banOf('192.0.2.1')])).toHaveLength(1);
    fill();
    expect(w.commit(clock.now(), [found('192.0.2.2'), banOf('192.0.2.2')])).toBeNull();
    expect(w.commit(clock.now(), [liftOf('192.0.2.1')])).toBeNull();
    w.audit({
      at: clock.now(),
      jail: 'sshd',
      target: null,
      kind: 'action-failed',
      detail: 'queued audit row',
      data: null,
    });
    expect(w.health()).toMatchObject({
      state: 'full',
      queued: 4,
      nextProbeAt: 1_001_000,
      lastError: expect.stringMatching(/^SQLITE/),
    });
    clock.advance(1000); // first probe: still full; next in 2 s
    expect(w.health()).toMatchObject({ state: 'full', probes: 1, nextProbeAt: 1_003_000 });
    clock.advance(2000);
    expect(w.health()).toMatchObject({ state: 'full', probes: 2, nextProbeAt: 1_007_000 });
    free();
    clock.advance(4000);
    expect(w.health()).toMatchObject({ state: 'ok', queued: 0, nextProbeAt: null, since: null });
    expect(log).toEqual([
      {
        level: 'ERROR',
        text: expect.stringMatching(
          new RegExp(
            'sqlite3: cannot write \\(full: SQLITE_FULL .*\\); ' +
              'bans go on in memory and in the firewall, changes are kept in order \\(up to 10000\\) .*; ' +
              'next try in 1s$',
          ),
        ),
      },
      { level: 'NOTICE', text: expect.stringMatching(/: writable again after 7s \(3 tries\); queued changes written/) },
    ]);
    expect(store.auditRows().map((r) => `${r.kind} ${r.target ?? r.detail}`)).toEqual([
      'ban 192.0.2.1/32',
      'found 192.0.2.2',
      'ban 192.0.2.2/32',
      'unban 192.0.2.1/32',
      'action-failed queued audit row',
    ]);
    expect(w.store.activeBans().map((b) => b.target.text)).toEqual(['192.0.2.2/32']);
    expect(clock.pending()).toBe(0);
  });

  it('bounded: per-line rows go first, then the oldest writes; said once, counted when back', () => {
    const { w, clock, log, fill, free } = setup(4);
    fill();
    for (let i = 1; i <= 4; i++) w.commit(clock.now(), [found(`192.0.2.${i}`), banOf(`192.0.2.${i}`)]);
    // 'found' rows went first
    expect(w.health()).toMatchObject({ queued: 4, dropped: { rows: 4, bans: 0, unbans: 0 } });
    w.commit(clock.now(), [banOf('192.0.2.5')]);
    expect(w.health()).toMatchObject({ queued: 4, dropped: { rows: 4, bans: 1, unbans: 0 } }); // then the oldest ban
    free();
    clock.advance(1000);
    expect(log.map((l) => l.level)).toEqual(['ERROR', 'WARNING', 'NOTICE']);
    expect(log[1]!.text).toMatch(
      /4 change\(s\) queued while it cannot be written; dropping the oldest \(per-line audit rows first/,
    );
    expect(log[2]!.text).toMatch(/; dropped while the queue was full: 1 ban\(s\), 0 lift\(s\), 4 audit row\(s\)$/);
    expect(w.store.activeBans().map((b) => b.target.text)).toEqual([
      '192.0.2.2/32',
      '192.0.2.3/32',
      '192.0.2.4/32',
      '192.0.2.5/32',
    ]);
  });

  it('stopping while still full: a last try, then one line saying what was not written', () => {
    const { w, clock, log, fill } = setup();
    fill();
    w.commit(clock.now(), [banOf('192.0.2.1')]);
    w.commit(clock.now(), [liftOf('192.0.2.1')]);
    expect(w.stop()).toEqual({ rows: 0, bans: 1, unbans: 1, queued: 2 });
    expect(log.map((l) => l.level)).toEqual(['ERROR', 'ERROR']);
    expect(log[1]!.text).toMatch(
      new RegExp(
        'still cannot be written at shutdown \\(SQLITE_FULL\\): ' +
          '2 change\\(s\\) not written, ' +
          '1 ban\\(s\\) and 1 lift\\(s\\) among them; bans known only in memory end at the next start$',
      ),
    );
    expect(clock.pending()).toBe(0);
  });
});
