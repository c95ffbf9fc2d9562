import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAddr } from '../../../src/core/addr.js';
import { ManualClock } from '../../../src/core/clock.js';
import { formatDiagnostic } from '../../../src/core/diagnostics.js';
import { HostsDenyBackend } from '../../../src/sentryban/actions/hostsdeny/apply.js';
import { parseHostsFile, planLine } from '../../../src/sentryban/actions/hostsdeny/plan.js';
import { Fields } from '../../../src/sentryban/config/fields.js';
import { readJail } from '../../../src/sentryban/config/jail-file.js';
import { compileJailFilter } from '../../../src/sentryban/config/load.js';
import type { LoadedJail } from '../../../src/sentryban/config/loaded.js';
import { parseYamlTree } from '../../../src/sentryban/config/yaml-tree.js';
import { newLineMatcher } from '../../../src/sentryban/daemon/line-matcher.js';
import { BanManager } from '../../../src/sentryban/daemon/manager.js';
import { DecisionLog } from '../../../src/sentryban/daemon/log.js';
import type { AuditRow } from '../../../src/sentryban/store/audit.js';
import { Store } from '../../../src/sentryban/store/store.js';
import type { Ban } from '../../../src/sentryban/types.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// Replays a jail case (jail.yaml + input.log) through the daemon's own BanManager, with a real store in a temp
// folder and a real hosts.deny backend on a temp file, on a ManualClock set to each line's own timestamp before
// the manager reads the line (as if each line were read as it was written); expiries due before that time run
// first, each at its own time. The decisions are read back from the store's audit rows, in the compact form of
// expected.json. Then what is banned now is read from the manager, the store and hosts.deny, and once more after
// a restart (a second manager on the same store file).
export type Row = Record<string, string | number>;
// Each as hosts.deny lines, sorted.
export type InForce = { manager: string[]; store: string[]; hostsDeny: string[] };
export type Replayed = { rows: Row[]; atEnd: InForce; afterRestart: InForce & { restored: number } };

const loadCase = (dir: string): LoadedJail => {
  const file = join(dir, 'jail.yaml');
  const tree = parseYamlTree(readFileSync(file, 'utf8'), file);
  if (!tree.ok) throw new Error(tree.errors.map(formatDiagnostic).join('\n'));
  if (tree.value?.kind !== 'map') throw new Error(`${file}: expected a mapping of jails`);
  const entry = tree.value.entries[0];
  if (!entry) throw new Error(`${file}: no jail`);
  const f = new Fields();
  const spec = readJail(f, entry.key, entry.value, entry.key, new Map());
  if (f.errors.length) throw new Error(f.errors.map(formatDiagnostic).join('\n'));
  const filter = compileJailFilter(spec, dir);
  if (!filter.ok) throw new Error(filter.errors.map(formatDiagnostic).join('\n'));
  return { spec, filter: filter.value, actions: [] };
};

export const replayCase = async (dir: string): Promise<Replayed> => {
  const jail = loadCase(dir);
  const name = jail.spec.config.name;
  const tmp = makeTmpDir('sentryban-jailcase-');
  const clock = new ManualClock(0);
  const deny = join(tmp.dir, 'hosts.deny');
  const open = (): { store: Store; manager: BanManager } => {
    const opened = Store.open(join(tmp.dir, 'db.sqlite3'));
    if (!opened.ok) throw new Error(opened.message);
    const backend = new HostsDenyBackend({ backend: 'hostsdeny', jail: name, file: deny, daemonList: 'ALL' });
    const manager = new BanManager([jail], {
      store: opened.store,
      clock,
      log: new DecisionLog(null, false, clock),
      random: () => 0.5,
      backends: new Map([[name, [backend]]]),
    });
    return { store: opened.store, manager };
  };
  const lines = (bans: readonly Ban[]): string[] => bans.map((b) => planLine('ALL', b.target)).sort();
  const inForce = (store: Store, manager: BanManager): InForce => ({
    manager: lines(manager.list(null)),
    store: lines(store.activeBans()),
    hostsDeny: existsSync(deny) ? parseHostsFile(readFileSync(deny, 'utf8'), name).lines.sort() : [],
  });
  try {
    let { store, manager } = open();
    await manager.start();
    // An empty batch is queued behind everything queued before it (an expiry's lift).
    const settled = (): Promise<void> => manager.lines(name, []);
    const advanceTo = async (t: number): Promise<void> => {
      for (let next = manager.nextExpiry(); next !== null && next <= t; next = manager.nextExpiry()) {
        clock.set(Math.max(next, clock.now()));
        await settled();
      }
      if (t > clock.now()) clock.set(t);
    };
    // Only reads each line's own time (the jail's filter, a matcher of its own); the manager matches the line.
    const times = newLineMatcher(jail.filter, () => (clock.now() === 0 ? Date.now() : clock.now()));
    for (const text of readFileSync(join(dir, 'input.log'), 'utf8').split('\n')) {
      const self = /^#\s*self\s+(.*)$/.exec(text);
      if (self) {
        const addrs = (self[1] ?? '').split(/\s+/).flatMap((a) => parseAddr(a) ?? []);
        manager.setSelf({ kind: 'self', addrs });
        continue;
      }
      if (text.trim() === '' || text.startsWith('#')) continue;
      const line = { text, source: 'input.log' };
      const at = times.match(line).reduce((t, f) => Math.max(t, f.time), 0);
      if (at > 0) await advanceTo(at);
      await manager.lines(name, [line]);
    }
    const rows = store.auditRows({ limit: 1_000_000 }).map(compact);
    const atEnd = inForce(store, manager);
    await manager.stop();
    store.close();
    ({ store, manager } = open());
    const { restored } = await manager.start();
    const afterRestart = { ...inForce(store, manager), restored };
    await manager.stop();
    store.close();
    return { rows, atEnd, afterRestart };
  } finally {
    tmp.cleanup();
  }
};

// An audit row as expected.json spells the decision it records (other rows, e.g. action-failed, as they are).
const compact = (r: AuditRow): Row => {
  const at = new Date(r.at).toISOString();
  switch (r.kind) {
    case 'found':
      return { at, kind: 'found', id: r.target ?? '', count: Number(/ failure (\d+)$/.exec(r.detail)?.[1]) };
    case 'ignored':
      return { at, kind: 'ignored', id: r.target ?? '', rule: r.detail };
    case 'ban': {
      const [, reason = r.detail, until = ''] = /^(.*); until (\S+) \([^)]*\)$/s.exec(r.detail) ?? [];
      const data = JSON.parse(r.data ?? '{}') as { bantime: number; banCount: number };
      return { at, kind: 'ban', target: r.target ?? '', bantime: data.bantime, banCount: data.banCount, until, reason };
    }
    case 'unban':
      return { at, kind: 'unban', target: r.target ?? '', reason: r.detail };
    default:
      return { at, kind: r.kind, target: r.target ?? '', detail: r.detail };
  }
};
