import { afterEach, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { ManualClock } from '../../../src/core/clock.js';
import { BanManager } from '../../../src/sentryban/daemon/manager.js';
import { DecisionLog } from '../../../src/sentryban/daemon/log.js';
import { Store } from '../../../src/sentryban/store/store.js';
import { loadJailYaml } from '../../helpers/jail.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// Counting state no later failure can reach is dropped (fail2ban's cleanup): before, every address that failed
// once stayed in the jail's table for the daemon's life. The real manager, jail and store.
const tmps: (() => void)[] = [];
afterEach(() => {
  while (tmps.length) tmps.pop()?.();
});

const setup = async () => {
  const t = makeTmpDir('sentryban-forget-');
  tmps.push(t.cleanup);
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const jail = loadJailYaml(
    "app:\n  failregex: 'auth failure from <HOST>$'\n  logpath: x.log\n  maxretry: 3\n" +
      '  findtime: 60\n  bantime: 1h\n  ignoreself: false\n',
    t.dir,
  );
  const opened = Store.open(join(t.dir, 'db.sqlite3'));
  if (!opened.ok) throw new Error(opened.message);
  tmps.unshift(() => opened.store.close());
  const m = new BanManager([jail], {
    store: opened.store,
    clock,
    log: new DecisionLog(null, false, clock),
    backends: new Map(),
  });
  await m.start();
  const fail = (...addrs: string[]): Promise<void> =>
    m.lines(
      'app',
      addrs.map((a) => ({ text: `auth failure from ${a}`, source: 'x.log', at: clock.now() })),
    );
  const counting = (): number => m.status()[0]?.counting ?? -1;
  return { clock, m, fail, counting };
};

describe('counting state is forgotten once no failure can reach it', () => {
  it('addresses that failed once two findtimes ago leave the table; counting within findtime goes on', async () => {
    const { clock, m, fail, counting } = await setup();
    await fail(...Array.from({ length: 50 }, (_, i) => `198.51.100.${i + 1}`));
    expect(counting()).toBe(50);
    clock.advance(100_000);
    await fail('192.0.2.7');
    expect(counting()).toBe(51); // the 50 are 100 s old: a failure 40 s old, still counted, could reach them
    clock.advance(70_000);
    await fail('192.0.2.7'); // the 50 are 170 s old now: forgotten (the sweep runs at most once per findtime)
    expect(counting()).toBe(1);
    clock.advance(5_000);
    await fail('192.0.2.7');
    clock.advance(5_000);
    await fail('192.0.2.7'); // 3 within findtime: counting goes on as before
    expect(m.list('app').map((b) => b.target.text)).toEqual(['192.0.2.7/32']);
    expect(counting()).toBe(0);
  });
});
