import { afterEach, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { ManualClock } from '../../../src/core/clock.js';
import type { LoadedJail } from '../../../src/sentryban/config/loaded.js';
import { BanManager } from '../../../src/sentryban/daemon/manager.js';
import { DecisionLog } from '../../../src/sentryban/daemon/log.js';
import { Store } from '../../../src/sentryban/store/store.js';
import { loadJailYaml } from '../../helpers/jail.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// A restart (or a kill -9) between two failures of one address: the real manager, jail and store, a new manager
// on the same store file each time. Counting resumes where it stopped instead of starting again from zero.
const tmps: (() => void)[] = [];
afterEach(() => {
  while (tmps.length) tmps.pop()?.();
});

const loadJail = (dir: string, yaml: string): LoadedJail => loadJailYaml(yaml, dir);

const setup = (extra = '') => {
  const t = makeTmpDir('sentryban-recount-');
  tmps.push(t.cleanup);
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const jail = loadJail(
    t.dir,
    "app:\n  failregex: 'auth failure from <HOST>$'\n  logpath: x.log\n  maxretry: 3\n" +
      `  findtime: 60\n  bantime: 1h\n  ignoreself: false\n${extra}`,
  );
  // Each run opens the store and a manager, as a daemon start does; `stop` is the clean stop (a kill skips it:
  // the store holds what was committed either way).
  const run = async () => {
    const opened = Store.open(join(t.dir, 'db.sqlite3'));
    if (!opened.ok) throw new Error(opened.message);
    tmps.unshift(() => opened.store.close());
    const log = new DecisionLog(null, false, clock);
    const m = new BanManager([jail], { store: opened.store, clock, log, backends: new Map() });
    await m.start();
    const fail = (addr: string): Promise<void> =>
      m.lines('app', [{ text: `auth failure from ${addr}`, source: 'x.log', at: clock.now() }]);
    return { m, fail, store: opened.store };
  };
  return { clock, run };
};

describe('failure counts across a restart', () => {
  it('a count in progress resumes: three failures split by two restarts make a ban', async () => {
    const { clock, run } = setup();
    let r = await run();
    await r.fail('192.0.2.7');
    await r.fail('2001:db8::7');
    r = await run(); // the first manager is dropped without stop(): a kill -9
    clock.advance(10_000);
    await r.fail('192.0.2.7');
    expect(r.m.status()[0]).toMatchObject({ counting: 2 });
    r = await run();
    clock.advance(10_000);
    await r.fail('192.0.2.7');
    expect(r.m.list('app').map((b) => b.target.text)).toEqual(['192.0.2.7/32']);
    expect(
      r.store
        .auditRows({ target: '192.0.2.7' })
        .filter((x) => x.kind === 'found')
        .map((x) => x.detail),
    ).toEqual(['app: failure 1', 'app: failure 2', 'app: failure 3']);
  });

  it('a count closed by a ban stays closed, and a count older than findtime adds nothing to new failures', async () => {
    const { clock, run } = setup();
    let r = await run();
    for (let i = 0; i < 3; i++) await r.fail('198.51.100.9');
    await r.fail('203.0.113.5');
    expect(r.m.list('app')).toHaveLength(1);
    await r.m.unban(r.m.list('app')[0]!.target, 'app');
    clock.advance(61_000); // 203.0.113.5's single failure is now outside findtime
    r = await run();
    expect(r.m.status()[0]).toMatchObject({ counting: 1 }); // as a daemon that kept running holds it, until purged
    await r.fail('198.51.100.9');
    await r.fail('203.0.113.5');
    await r.fail('203.0.113.5');
    expect(r.m.list('app')).toHaveLength(0);
    const found = r.store.auditRows({ target: '198.51.100.9' }).filter((x) => x.kind === 'found');
    expect(found.map((x) => x.detail).at(-1)).toBe('app: failure 1');
  });

  it('prefix counting (IPv6 /64) resumes under the prefix', async () => {
    const { clock, run } = setup('  ipv6prefix: 64\n');
    let r = await run();
    await r.fail('2001:db8:1::1');
    await r.fail('2001:db8:1::2');
    r = await run();
    clock.advance(1000);
    await r.fail('2001:db8:1::3');
    expect(r.m.list('app').map((b) => b.target.text)).toEqual(['2001:db8:1::/64']);
  });
});
