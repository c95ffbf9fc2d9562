import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { ManualClock } from '../../../src/core/clock.js';
import type { LoadedJail } from '../../../src/sentryban/config/loaded.js';
import { BanManager } from '../../../src/sentryban/daemon/manager.js';
import { DecisionLog } from '../../../src/sentryban/daemon/log.js';
import { HostFailures } from '../../../src/sentryban/dns/host-failures.js';
import { HostResolver, type LookupFn } from '../../../src/sentryban/dns/resolver.js';
import { Store } from '../../../src/sentryban/store/store.js';
import { loadJailYaml } from '../../helpers/jail.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// The real manager, jail and store; only the resolver's edge answers when the test says. A batch waiting for a
// name holds back the jail's later batches, and a late answer counts on the line's own time.
let dir = '';
let cleanup = (): void => {};
beforeEach(() => {
  ({ dir, cleanup } = makeTmpDir('sentryban-dnsorder-'));
});
afterEach(() => cleanup());

const loadJail = (yaml: string): LoadedJail => loadJailYaml(yaml, dir);

describe('host names resolved off the hot path', () => {
  it("keeps the order of failures and counts a late answer on the line's time", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const t0 = clock.now();
    const answers = new Map<string, (a: string[]) => void>();
    const lookup: LookupFn = (name) =>
      new Promise((res) => {
        answers.set(name, res);
      });
    const opened = Store.open(join(dir, 'db.sqlite3'));
    if (!opened.ok) throw new Error(opened.message);
    const logged: string[] = [];
    const hosts = new HostFailures(new HostResolver({ clock, lookup, timeoutMs: 600_000 }), (level, text) =>
      logged.push(`${level} ${text}`),
    );
    const jail = loadJail(
      "app:\n  failregex: 'auth failure from <HOST>$'\n  logpath: x.log\n  maxretry: 2\n  findtime: 60\n  bantime: 1h\n  usedns: yes\n  ignoreself: false\n",
    );
    const other = loadJail(
      "other:\n  failregex: 'auth failure from <HOST>$'\n  logpath: y.log\n  maxretry: 5\n  usedns: yes\n  ignoreself: false\n",
    );
    const m = new BanManager([jail, other], {
      store: opened.store,
      clock,
      log: new DecisionLog(null, false, clock),
      backends: new Map(),
      hosts,
    });
    await m.start();
    const line = (text: string) => ({ text, source: 'x.log', at: clock.now() });
    const first = m.lines('app', [line('auth failure from slow.example')]);
    const second = m.lines('app', [line('auth failure from 192.0.2.7')]);
    await m.lines('other', [{ text: 'auth failure from 198.51.100.1', source: 'y.log', at: clock.now() }]); // other jails go on
    const rows = (): string[] => {
      const db = new Database(join(dir, 'db.sqlite3'), { readonly: true });
      try {
        return db
          .prepare("SELECT kind, target, detail FROM audit WHERE kind IN ('found', 'ban') ORDER BY id")
          .all()
          .map((r) => {
            const x = r as Record<string, string>;
            return `${x.kind} ${x.target} ${(x.detail ?? '').split(';')[0]}`;
          });
      } finally {
        db.close();
      }
    };
    expect(rows()).toEqual(['found 198.51.100.1 other: failure 1']); // app's address line waits behind its name
    clock.advance(120_000); // the answer comes after a whole findtime
    answers.get('slow.example')!(['192.0.2.7']);
    await Promise.all([first, second]);
    expect(rows()).toEqual([
      'found 198.51.100.1 other: failure 1',
      'found 192.0.2.7 app: failure 1',
      'found 192.0.2.7 app: failure 2',
      'ban 192.0.2.7/32 2 failures within findtime 60s reached maxretry 2',
    ]);
    expect(m.list('app')[0]).toMatchObject({ bannedAt: t0, expiresAt: t0 + 3_600_000 });
    expect(logged).toEqual([]); // usedns yes: no warning (warn would log it)
    await m.stop();
    opened.store.close();
  });
});
