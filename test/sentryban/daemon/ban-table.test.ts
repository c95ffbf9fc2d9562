import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCidr } from '../../../src/core/addr.js';
import { ManualClock } from '../../../src/core/clock.js';
import { HostsDenyBackend } from '../../../src/sentryban/actions/hostsdeny/apply.js';
import { parseHostsFile } from '../../../src/sentryban/actions/hostsdeny/plan.js';
import type { LoadedJail } from '../../../src/sentryban/config/loaded.js';
import { BanManager } from '../../../src/sentryban/daemon/manager.js';
import { DecisionLog } from '../../../src/sentryban/daemon/log.js';
import { StoreWriter } from '../../../src/sentryban/daemon/store-writer.js';
import { Store } from '../../../src/sentryban/store/store.js';
import { loadJailYaml } from '../../helpers/jail.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// What is banned now, while the store cannot be written and after: the real manager, writer and store (made full
// by SQLite's max_page_count, as a full disk makes it), a hosts.deny backend on a temp file. The manager's table
// says what is banned; hosts.deny follows it, and so does the store once it is written again; a restart restores
// each ban in force once.
const tmps: (() => void)[] = [];
afterEach(() => {
  while (tmps.length) tmps.pop()?.();
});

const T0 = Date.UTC(2026, 0, 1);
const loadJail = (dir: string): LoadedJail =>
  loadJailYaml(
    "app:\n  failregex: 'auth failure from <HOST>$'\n  maxretry: 1\n  bantime: 60\n  ignoreself: false\n",
    dir,
  );

const setup = (maxQueued?: number) => {
  const t = makeTmpDir('sentryban-bantable-');
  tmps.push(t.cleanup);
  const path = join(t.dir, 'sentryban.sqlite3');
  const deny = join(t.dir, 'hosts.deny');
  const clock = new ManualClock(T0);
  const jail = loadJail(t.dir);
  const run = async () => {
    const opened = Store.open(path);
    if (!opened.ok) throw new Error(opened.message);
    const logged: string[] = [];
    const writer = new StoreWriter(opened.store, {
      clock,
      path,
      log: (level, text) => logged.push(`${level} ${text}`),
      reopen: () => Store.open(path),
      ...(maxQueued ? { maxQueued } : {}),
    });
    tmps.push(() => {
      writer.stop();
      writer.store.close();
    });
    const backend = new HostsDenyBackend({ backend: 'hostsdeny', jail: 'app', file: deny, daemonList: 'ALL' });
    const m = new BanManager([jail], {
      store: opened.store,
      clock,
      log: new DecisionLog(null, false, clock),
      backends: new Map([['app', [backend]]]),
      writer,
    });
    const started = await m.start();
    // Long lines: each write needs new pages, so that a full store refuses it.
    const fail = (addr: string): Promise<void> =>
      m.lines('app', [{ text: `${'x'.repeat(5000)} auth failure from ${addr}`, source: 'x.log', at: clock.now() }]);
    // An empty batch is queued behind everything queued before it (an expiry's lift).
    const advance = async (ms: number): Promise<void> => {
      clock.advance(ms);
      await m.lines('app', []);
    };
    const held = () => ({
      manager: m.list(null).map((b) => b.target.text),
      store: writer.store.activeBans().map((b) => b.target.text),
      hostsDeny: existsSync(deny) ? parseHostsFile(readFileSync(deny, 'utf8'), 'app').lines : [],
    });
    const full = (): void => opened.store.limitPages(opened.store.pageCount());
    const free = (): void => opened.store.limitPages(null);
    return { m, writer, started, fail, advance, held, full, free, logged };
  };
  return { run };
};

describe('the ban table while the store is full, and after', () => {
  it('bans once in memory, lifts from memory, writes what it holds when the store is back, restores it once', async () => {
    const { run } = setup();
    const r = await run();
    await r.fail('192.0.2.1');
    r.full();
    await r.fail('192.0.2.2');
    await r.fail('192.0.2.2'); // already banned: in the table only
    expect(await r.m.ban('app', parseCidr('192.0.2.2')!)).toMatchObject({ ok: false });
    expect(r.writer.isDown).toBe(true);
    expect(r.held()).toEqual({
      manager: ['192.0.2.1/32', '192.0.2.2/32'],
      store: ['192.0.2.1/32'],
      hostsDeny: ['ALL: 192.0.2.1', 'ALL: 192.0.2.2'],
    });
    await r.advance(61_000); // both end: one written, one known only in memory
    await r.fail('192.0.2.3');
    expect(r.held()).toEqual({ manager: ['192.0.2.3/32'], store: ['192.0.2.1/32'], hostsDeny: ['ALL: 192.0.2.3'] });
    r.free();
    await r.advance(10_000); // the writer's probes: 1 s, 2 s, 4 s
    expect(r.writer.isDown).toBe(false);
    expect(r.held()).toEqual({ manager: ['192.0.2.3/32'], store: ['192.0.2.3/32'], hostsDeny: ['ALL: 192.0.2.3'] });
    expect(
      r.writer.store
        .auditRows({ target: '192.0.2.2/32' })
        .map((x) => x.kind)
        .filter((k) => k === 'ban' || k === 'unban'),
    ).toEqual(['ban', 'unban']);

    const again = await run();
    expect(again.started).toEqual({ restored: 1, lifted: 0 });
    expect(again.held()).toEqual(r.held());
  });

  // Lifts dropped from the writer's queue (it holds at most maxQueued changes) leave their rows active in the
  // store. The table says those bans ended: a new ban of the same target is a ban like any other, acted on, and
  // its row is the one a restart restores.
  it('a new ban of a target whose lift the full store never got is applied, kept and restored', async () => {
    const { run } = setup(2);
    const r = await run();
    await r.fail('192.0.2.1');
    r.full();
    await r.advance(61_000); // 192.0.2.1 ends; its lift is queued
    await r.fail('192.0.2.2');
    await r.fail('192.0.2.3'); // over maxQueued: the oldest write (the lift) is dropped
    r.free();
    await r.advance(10_000);
    expect(r.writer.isDown).toBe(false);
    expect(r.logged.join('\n')).toMatch(/dropped while the queue was full: 0 ban\(s\), 1 lift\(s\)/);
    await r.fail('192.0.2.1');
    const expected = {
      manager: ['192.0.2.2/32', '192.0.2.3/32', '192.0.2.1/32'],
      store: ['192.0.2.1/32', '192.0.2.2/32', '192.0.2.3/32'],
      hostsDeny: ['ALL: 192.0.2.2', 'ALL: 192.0.2.3', 'ALL: 192.0.2.1'],
    };
    expect(r.held()).toEqual(expected);
    expect(r.m.list('app').find((b) => b.target.text === '192.0.2.1/32')?.expiresAt).toBe(T0 + 71_000 + 60_000);

    const again = await run();
    expect(again.started).toEqual({ restored: 3, lifted: 0 });
    expect(again.m.list('app').find((b) => b.target.text === '192.0.2.1/32')?.expiresAt).toBe(T0 + 131_000);
    expect(new Set(again.held().hostsDeny)).toEqual(new Set(expected.hostsDeny));
  });
});
