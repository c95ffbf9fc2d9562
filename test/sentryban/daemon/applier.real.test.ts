import { afterAll, afterEach, beforeAll, describe, expect } from '@jest/globals';
import { join } from 'node:path';
import { parseCidr } from '../../../src/core/addr.js';
import { ManualClock } from '../../../src/core/clock.js';
import { specFromOptions } from '../../../src/sentryban/actions/options.js';
import { createBackend } from '../../../src/sentryban/actions/factory.js';
import { execaRunner, type Runner, type RunOptions } from '../../../src/sentryban/actions/runner.js';
import { BanManager } from '../../../src/sentryban/daemon/manager.js';
import { DecisionLog } from '../../../src/sentryban/daemon/log.js';
import { Store } from '../../../src/sentryban/store/store.js';
import { createLab, type Lab } from '../../helpers/netns.js';
import { loadJailYaml } from '../../helpers/jail.js';
import { itReal, missing } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// The applier (daemon/applier.ts) through the real manager, store and nftables backend, in a namespace this suite
// creates and deletes. The one thing added is a gate in front of the real `nft`: a call can be held running,
// so that the test queues decisions behind it and sees what the applier makes of them once it ends.
const it = itReal({ root: true, commands: ['ip', 'nft'] });
let lab: Lab | null = null;
beforeAll(async () => {
  if (!missing({ root: true, commands: ['ip', 'nft'] })) lab = await createLab();
}, 60_000);
afterAll(async () => {
  await lab?.destroy();
}, 60_000);
const tmps: (() => void)[] = [];
afterEach(() => {
  while (tmps.length) tmps.pop()?.();
});

type Call = { argv: string[]; input: string };
// The runner's input as text (pieces may be strings or bytes, given sync or async).
const textOf = async (input: RunOptions['input']): Promise<string> => {
  if (input === undefined) return '';
  if (typeof input === 'string') return input;
  const dec = new TextDecoder();
  let out = '';
  for await (const p of input) out += typeof p === 'string' ? p : dec.decode(p, { stream: true });
  return out + dec.decode();
};

// The real runner in the namespace, recording each call; hold() makes the next calls wait until release().
const gated = (inner: Runner) => {
  const calls: Call[] = [];
  let gate: Promise<void> | null = null;
  let open = (): void => {};
  let entered = (): void => {};
  let waiting: Promise<void> = Promise.resolve();
  const runner: Runner = async (argv, o = {}) => {
    const input = await textOf(o.input);
    calls.push({ argv: [...argv], input });
    entered();
    if (gate) await gate;
    return inner(argv, { ...o, input });
  };
  return {
    runner,
    calls,
    // Returns a promise settled once a call has reached the gate.
    hold(): Promise<void> {
      gate = new Promise((r) => (open = r));
      waiting = new Promise((r) => (entered = r));
      return waiting;
    },
    release(): void {
      gate = null;
      entered = () => {};
      open();
    },
  };
};

const setup = async () => {
  const l = lab!;
  const t = makeTmpDir('sentryban-applier-');
  tmps.push(t.cleanup);
  const clock = new ManualClock(Date.now());
  const jail = loadJailYaml(
    "app:\n  failregex: 'auth failure from <HOST>$'\n  maxretry: 1\n  bantime: 1h\n  ignoreself: false\n",
    t.dir,
  );
  const opened = Store.open(join(t.dir, 'sentryban.sqlite3'));
  if (!opened.ok) throw new Error(opened.message);
  const store = opened.store;
  tmps.push(() => store.close());
  const g = gated(execaRunner({ prefix: ['ip', 'netns', 'exec', l.victim], timeoutMs: 30_000 }));
  const spec = specFromOptions('nftables', 'app', {});
  if (!spec.ok) throw new Error(JSON.stringify(spec.errors));
  const made = createBackend(spec.value, { clock, runner: g.runner });
  if (!made.ok) throw new Error(JSON.stringify(made.errors));
  const be = made.value;
  const m = new BanManager([jail], {
    store,
    clock,
    log: new DecisionLog(null, false, clock),
    backends: new Map([['app', [be]]]),
  });
  await m.start();
  g.calls.length = 0;
  // The addresses in the jail's kernel sets now.
  const kernel = async (): Promise<string[]> => {
    const r = await l.run(l.victim, ['nft', '-j', 'list', 'table', 'inet', 'sentryban-app']);
    const out: string[] = [];
    for (const o of JSON.parse(String(r.stdout)).nftables as { set?: { elem?: unknown[] } }[])
      for (const e of o.set?.elem ?? []) {
        const v = (e as { elem?: { val?: unknown } }).elem?.val ?? e;
        if (typeof v === 'string') out.push(v);
      }
    return out.sort();
  };
  // Each nft call's elements in order, with what the call leaves of each: a ban's plan ends in `add` (a batch of
  // new elements is one `create` per set), an unban's in `delete`.
  const batches = (): string[][] =>
    g.calls.map((c) => {
      const last = new Map<string, string>();
      for (const x of c.input.matchAll(/(add|create|delete) element [^{]*\{ ([^}]*) \}/g))
        for (const e of x[2]!.split(', ')) last.set(e.split(' ')[0]!, x[1] === 'delete' ? 'delete' : 'add');
      return [...last].map(([e, verb]) => `${verb} ${e}`);
    });
  return { m, store, clock, g, be, kernel, batches };
};
const cidr = (t: string) => parseCidr(t)!;

describe('applier: actions off the decision queue, per backend, in decision order', () => {
  it('bans queued behind a running nft call go in one transaction; an unban queued after its ban runs after it', async () => {
    const { m, store, g, kernel, batches } = await setup();
    const held = g.hold();
    const first = m.ban('app', cidr('192.0.2.10'));
    await held; // the first ban's nft call is running (held)
    const later = [
      m.ban('app', cidr('192.0.2.11')),
      m.ban('app', cidr('2001:db8::12')),
      m.unban(cidr('192.0.2.11'), 'app'),
    ];
    // The decisions did not wait for the firewall: all committed while the first call is still running.
    await new Promise((r) => setTimeout(r, 100));
    expect(
      store
        .activeBans()
        .map((b) => b.target.text)
        .sort(),
    ).toEqual(['192.0.2.10/32', '2001:db8::12/128']);
    expect(g.calls).toHaveLength(1);
    g.release();
    expect((await first).ok).toBe(true);
    expect(await Promise.all(later)).toEqual([
      expect.objectContaining({ ok: true }),
      expect.objectContaining({ ok: true }),
      1,
    ]);
    expect(batches()).toEqual([['add 192.0.2.10'], ['add 192.0.2.11', 'add 2001:db8::12'], ['delete 192.0.2.11']]);
    expect(await kernel()).toEqual(['192.0.2.10', '2001:db8::12']);
  }, 60_000);

  it('a joined batch that fails marks its bans failed; the repair puts the store view in', async () => {
    const { m, clock, g, kernel, batches } = await setup();
    const l = lab!;
    const held = g.hold();
    const first = m.ban('app', cidr('192.0.2.20'));
    await held;
    const queued = [m.ban('app', cidr('192.0.2.21')), m.ban('app', cidr('192.0.2.22'))];
    g.release();
    const joined = g.hold(); // the joined batch's call, held in its turn
    expect((await first).ok).toBe(true);
    await joined;
    // The table goes away by hand while the joined batch is on its way: its transaction fails.
    await l.run(l.victim, ['nft', 'delete', 'table', 'inet', 'sentryban-app']);
    g.release();
    await Promise.all(queued);
    // The joined batch's create, refused, then ban()'s plan (as for an element already there), refused too.
    expect(batches()).toEqual([
      ['add 192.0.2.20'],
      ['add 192.0.2.21', 'add 192.0.2.22'],
      ['add 192.0.2.21', 'add 192.0.2.22'],
    ]);
    expect(m.repairs.stateOf('app', '192.0.2.20/32')).toEqual({ 'nftables:app': 'applied' });
    for (const t of ['192.0.2.21/32', '192.0.2.22/32'])
      expect(m.repairs.stateOf('app', t)).toEqual({ 'nftables:app': 'failed' });
    expect(m.repairs.health()[0]).toEqual(expect.objectContaining({ inSync: false, failures: 1 }));
    clock.advance(2000); // the scheduled repair (1-2 s): the table is rebuilt from the store's bans in force
    const deadline = Date.now() + 20_000;
    while (m.repairs.health()[0]!.failures > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(m.repairs.health()[0]).toEqual(expect.objectContaining({ inSync: true, failures: 0 }));
    expect(await kernel()).toEqual(['192.0.2.20', '192.0.2.21', '192.0.2.22']);
    for (const t of ['192.0.2.20/32', '192.0.2.21/32', '192.0.2.22/32'])
      expect(m.repairs.stateOf('app', t)).toEqual({ 'nftables:app': 'applied' });
    await m.stop();
    await m.repairs.stop();
  }, 60_000);

  it('stop() waits for the actions still queued, and they all reach the kernel', async () => {
    const { m, g, kernel } = await setup();
    const held = g.hold();
    const bans = [m.ban('app', cidr('192.0.2.30'))];
    await held;
    bans.push(m.ban('app', cidr('192.0.2.31')), m.ban('app', cidr('2001:db8::32')));
    await new Promise((r) => setImmediate(r)); // the second decision's turn in the queue
    expect(m.actionsWaiting).toBe(2); // both in one lane item, behind the running call
    let stopped = false;
    const stopping = m.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(stopped).toBe(false);
    g.release();
    await stopping;
    expect(m.actionsWaiting).toBe(0);
    expect(await kernel()).toEqual(['192.0.2.30', '192.0.2.31', '2001:db8::32']);
    expect((await Promise.all(bans)).every((r) => r.ok)).toBe(true);
  }, 60_000);
});
