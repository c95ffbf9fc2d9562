import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAddr, parseCidr, type Cidr } from '../../../src/core/addr.js';
import { ManualClock } from '../../../src/core/clock.js';
import { HostsDenyBackend } from '../../../src/sentryban/actions/hostsdeny/apply.js';
import { parseHostsFile } from '../../../src/sentryban/actions/hostsdeny/plan.js';
import { BanManager } from '../../../src/sentryban/daemon/manager.js';
import { DecisionLog } from '../../../src/sentryban/daemon/log.js';
import type { Received } from '../../../src/sentryban/fleet/received.js';
import { Store } from '../../../src/sentryban/store/store.js';
import type { Decision } from '../../../src/sentryban/types.js';
import { loadJailYaml } from '../../helpers/jail.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// Received fleet bans go through the one ban manager: the real manager, store and hosts.deny backend.
const tmps: (() => void)[] = [];
afterEach(() => {
  while (tmps.length) tmps.pop()?.();
});
const T0 = Date.UTC(2026, 11, 7);
const cidr = (t: string): Cidr => parseCidr(t)!;
const fleetBan = (target: string, origin = 'web2', ms = 600_000): Received => ({
  kind: 'ban',
  jail: 'app',
  reason: `fleet ban from ${origin}: test`,
  ban: {
    jail: 'app',
    target: cidr(target),
    bannedAt: T0,
    expiresAt: T0 + ms,
    bantimeSec: ms / 1000,
    banCount: 1,
    origin,
  },
});
const unban = (target: string): Received => ({ kind: 'unban', jail: 'app', target: cidr(target) });

const setup = async () => {
  const t = makeTmpDir('sentryban-fleet-recv-');
  tmps.push(t.cleanup);
  const clock = new ManualClock(T0);
  const jail = loadJailYaml(
    "app:\n  failregex: 'auth failure from <HOST>$'\n  maxretry: 1\n  bantime: 60\n  ignoreip: 192.0.2.1 198.51.100.0/24\n",
    t.dir,
  );
  const opened = Store.open(join(t.dir, 'sentryban.sqlite3'));
  if (!opened.ok) throw new Error(opened.message);
  const store = opened.store;
  tmps.push(() => store.close());
  const deny = join(t.dir, 'hosts.deny');
  const backend = new HostsDenyBackend({ backend: 'hostsdeny', jail: 'app', file: deny, daemonList: 'ALL' });
  const m = new BanManager([jail], {
    store,
    clock,
    log: new DecisionLog(null, false, clock),
    backends: new Map([['app', [backend]]]),
  });
  await m.start();
  const decided: Decision[] = [];
  m.onDecided((ds) => decided.push(...ds));
  const hostsDeny = (): string[] => (existsSync(deny) ? parseHostsFile(readFileSync(deny, 'utf8'), 'app').lines : []);
  return { m, store, clock, decided, hostsDeny };
};

describe('BanManager.receive: fleet bans through the one table', () => {
  it('applies a received ban with its origin, once; stores and audits it', async () => {
    const { m, store, hostsDeny, decided } = await setup();
    expect(await m.receive([fleetBan('203.0.113.5'), fleetBan('203.0.113.5', 'web3')])).toEqual(['applied', 'already']);
    expect(m.list('app').map((b) => [b.target.text, b.origin])).toEqual([['203.0.113.5/32', 'web2']]);
    expect(hostsDeny()).toEqual(['ALL: 203.0.113.5']);
    expect(store.activeBans().map((b) => b.origin)).toEqual(['web2']);
    expect(store.auditRows({ jail: 'app' }).map((r) => [r.kind, r.detail.split(';')[0]])).toEqual([
      ['ban', 'fleet ban from web2: test'],
    ]);
    expect(decided.map((d) => d.kind === 'ban' && d.ban.origin)).toEqual(['web2']);
  });

  it("keeps the jail's ignoreip for received bans, subnets holding an ignored address included", async () => {
    const { m, hostsDeny } = await setup();
    expect(await m.receive([fleetBan('192.0.2.1'), fleetBan('198.51.100.9'), fleetBan('192.0.0.0/16')])).toEqual([
      'ignored: ignoreip 192.0.2.1',
      'ignored: ignoreip 198.51.100.0/24',
      'ignored: ignoreip/ignoreself inside the subnet',
    ]);
    expect(hostsDeny()).toEqual([]);
  });

  it("keeps ignoreself: the host's own address, and a subnet holding it, are not banned", async () => {
    const { m, hostsDeny } = await setup();
    m.setSelf({ kind: 'self', addrs: [parseAddr('203.0.113.50')!] });
    expect(await m.receive([fleetBan('203.0.113.50'), fleetBan('203.0.0.0/16'), fleetBan('203.0.113.51')])).toEqual([
      'ignored: ignoreself',
      'ignored: ignoreip/ignoreself inside the subnet',
      'applied',
    ]);
    expect(hostsDeny()).toEqual(['ALL: 203.0.113.51']);
  });

  it('a received unban lifts a received ban, never a ban decided here', async () => {
    const { m, hostsDeny, decided } = await setup();
    await m.ban('app', cidr('203.0.113.7'));
    await m.receive([fleetBan('203.0.113.8')]);
    expect(await m.receive([unban('203.0.113.7'), unban('203.0.113.8'), unban('203.0.113.9')])).toEqual([
      'local',
      'applied',
      'not-held',
    ]);
    expect(hostsDeny()).toEqual(['ALL: 203.0.113.7']);
    // the fleet's own lift is marked as such (the link does not publish it again)
    expect(decided.filter((d) => d.kind === 'unban').map((d) => d.kind === 'unban' && d.reason)).toEqual(['fleet']);
  });

  it('applies a batch in order: ban, unban, ban of one target ends banned', async () => {
    const { m, hostsDeny } = await setup();
    expect(await m.receive([fleetBan('203.0.113.9'), unban('203.0.113.9'), fleetBan('203.0.113.9', 'web3')])).toEqual([
      'applied',
      'applied',
      'applied',
    ]);
    expect(m.list('app').map((b) => b.origin)).toEqual(['web3']);
    expect(hostsDeny()).toEqual(['ALL: 203.0.113.9']);
  });

  it('a re-sync lifts received bans missing from the snapshot, and only those', async () => {
    const { m, hostsDeny } = await setup();
    await m.ban('app', cidr('203.0.113.1'));
    await m.receive([fleetBan('203.0.113.2'), fleetBan('203.0.113.3')]);
    expect(await m.liftReceivedExcept(new Set(['app\t203.0.113.3/32']))).toBe(1);
    expect(hostsDeny().sort()).toEqual(['ALL: 203.0.113.1', 'ALL: 203.0.113.3']);
  });

  it('a received ban is stored with its origin and ends at its own expiry', async () => {
    const { m, clock, hostsDeny, store } = await setup();
    await m.receive([fleetBan('203.0.113.4', 'web2', 30_000)]);
    expect(store.activeBans()[0]?.origin).toBe('web2');
    clock.advance(31_000);
    await m.lines('app', []);
    expect(hostsDeny()).toEqual([]);
  });
});

describe('Store: the fleet outbox and position', () => {
  it('keeps events in order until they are done, and the position across opens', () => {
    const t = makeTmpDir('sentryban-fleet-store-');
    tmps.push(t.cleanup);
    const path = join(t.dir, 's.sqlite3');
    const s1 = Store.open(path);
    if (!s1.ok) throw new Error(s1.message);
    const ids = s1.store.outboxAdd(['["v","1"]', '["v","2"]', '["v","3"]']);
    s1.store.outboxDone(ids[0]!);
    s1.store.setFleetState('position', '1-0');
    s1.store.setFleetState('position', '2-5');
    s1.store.close();
    const s2 = Store.open(path);
    if (!s2.ok) throw new Error(s2.message);
    expect(s2.store.outboxPeek(10).map((r) => r.text)).toEqual(['["v","2"]', '["v","3"]']);
    expect(s2.store.fleetState('position')).toBe('2-5');
    // refused fleet entries are per-entry rows: dbpurgeage removes them, as it removes found/ignored rows
    s2.store.audit({ at: 1000, jail: '-', target: null, kind: 'fleet-refused', detail: 'x', data: null });
    s2.store.audit({ at: 1000, jail: 'app', target: null, kind: 'fleet-expired', detail: 'x', data: null });
    expect(s2.store.purge(2000).audit).toBe(1);
    expect(s2.store.auditRows().map((r) => r.kind)).toEqual(['fleet-expired']);
    s2.store.close();
  });
});
