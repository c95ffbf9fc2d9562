import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { buildBackends, commandActionsOf } from './daemon/backends.js';
import { EX_CONFIG, formatDiagnostic, type Diagnostic, type Result } from '../core/diagnostics.js';
import { Serial } from '../core/serial.js';
import { openNotifier } from '../core/sd-notify.js';
import { releaseOptimizer } from '../core/start-up-jit.js';
import { createBackend } from './actions/index.js';
import { loadConfig } from './config/load.js';
import type { DaemonConfig, LoadedJail } from './config/loaded.js';
import { startControlServer } from './control/server.js';
import { peerCredStatus } from '../core/peer-cred.js';
import { HostFailures } from './dns/host-failures.js';
import { HostResolver } from './dns/resolver.js';
import type { JournalFollower } from './sources/journald.js';
import type { JournalOptions } from './sources/journald-backend.js';
import { JailSources } from './daemon/jail-sources.js';
import { IdleCollector } from './daemon/idle-gc.js';
import { openDecisionLog, type DecisionLog } from './daemon/log.js';
import { BanManager } from './daemon/manager.js';
import { planReload, type Running } from './daemon/reload.js';
import type { ReloadReply } from './control/handlers.js';
import { folderFault, openStoreChecked } from './store/open-checked.js';
import { storeFaultOf } from './store/fault.js';
import { Store } from './store/store.js';
import { StoreWriter } from './daemon/store-writer.js';
import type { ActionBackend, LogLine } from './types.js';
import { startFleet } from './daemon/fleet.js';
import { defaultConfigDir, ownAddrs } from './this-host.js';

// `sentryban daemon [--config DIR] [--foreground]`: load and check everything, then run until SIGINT/SIGTERM.
export type DaemonOptions = { configDir: string; foreground: boolean; clock?: Clock; fail2banConfig?: string };

export const parseDaemonArgs = (argv: string[]): DaemonOptions | string => {
  const o: DaemonOptions = { configDir: '', foreground: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--foreground' || a === '-f') o.foreground = true;
    else if (a === '--config' || a === '-c') {
      const v = argv[++i];
      if (!v) return '--config needs a folder';
      o.configDir = v;
    } else if (a?.startsWith('--config=')) o.configDir = a.slice(9);
    else if (a === '--fail2ban-config') {
      const v = argv[++i];
      if (!v) return '--fail2ban-config needs a folder (e.g. /etc/fail2ban)';
      o.fail2banConfig = v;
    } else return `unknown option "${a}"`;
  }
  if (o.configDir === '') o.configDir = defaultConfigDir();
  return o;
};

export const runDaemon = async (opts: DaemonOptions): Promise<number> => {
  const loadOpts = opts.fail2banConfig
    ? { fail2banConfig: opts.fail2banConfig, fail2banDir: resolve(opts.fail2banConfig) }
    : {};
  const loaded = await loadConfig(opts.configDir, loadOpts);
  if (!loaded.ok) {
    for (const e of loaded.errors) process.stderr.write(`${formatDiagnostic(e)}\n`);
    process.stderr.write(
      `sentryban: configuration refused (${loaded.errors.length} error${loaded.errors.length === 1 ? '' : 's'}); nothing started\n`,
    );
    return EX_CONFIG;
  }
  const backends = await buildBackends(loaded.value, opts.clock ?? systemClock);
  releaseOptimizer(); // start-up is over: what runs from here (restore, lines) is optimized as usual
  if (!backends.ok) {
    for (const e of backends.errors) process.stderr.write(`${formatDiagnostic(e)}\n`);
    process.stderr.write('sentryban: configuration refused (actions); nothing started\n');
    return EX_CONFIG;
  }
  if (!opts.foreground) return detach(opts.configDir, opts.fail2banConfig);
  const clock = opts.clock ?? systemClock;
  mkdirSync(loaded.value.main.stateDir, { recursive: true, mode: 0o700 }); // before the log file makes it 0755
  const log = openDecisionLog(loaded.value.main.log, clock, (m) => process.stderr.write(`sentryban: ${m}\n`));
  try {
    return await serve(loaded.value, clock, log, () => loadConfig(opts.configDir, loadOpts));
  } finally {
    log.close();
  } // the syslog socket would hold the process
};

// Without --foreground: the checked config is run by a detached child; its pid is printed and kept.
const detach = (configDir: string, f2b: string | undefined): number => {
  const bin = process.argv[1] ?? '';
  const child = spawn(
    process.execPath,
    [bin, 'daemon', '--foreground', '--config', configDir, ...(f2b ? ['--fail2ban-config', f2b] : [])],
    { detached: true, stdio: 'ignore' },
  );
  child.unref();
  process.stdout.write(`sentryban: daemon started, pid ${String(child.pid)}\n`);
  return 0;
};

const serve = async (
  cfg: DaemonConfig,
  clock: Clock,
  log: DecisionLog,
  reloadConfig: () => Promise<Result<DaemonConfig>>,
): Promise<number> => {
  const { main } = cfg;
  // Type=notify (packaging/systemd/sentryban.service): READY=1 once the control socket answers, RELOADING=1
  // while a reload runs (READY=1 again before its reply leaves), STOPPING=1 at shutdown. No-op without systemd.
  const sd = openNotifier((m) => log.line('server', 'WARNING', m));
  const readyAgain = (): void => sd.notify({ READY: 1, STATUS: 'running' });
  mkdirSync(main.stateDir, { recursive: true, mode: 0o700 });
  // The metrics endpoint first: when its address cannot be bound nothing else has started. Its code (and
  // prom-client) is loaded only when sentryban.yaml asks for it.
  const metrics = main.metrics ? await (await import('./daemon/metrics.js')).startSentrybanMetrics(main.metrics) : null;
  if (typeof metrics === 'string') {
    process.stderr.write(`sentryban: ${metrics}\n`);
    return 1;
  }
  const opened = openStoreChecked(main.dbfile, clock.now());
  if (!opened.ok) {
    process.stderr.write(`sentryban: ${opened.message}\n`);
    await metrics?.server.close();
    return 1;
  }
  for (const n of opened.notes) log.line('database', n.level, n.text);
  const writer = new StoreWriter(
    opened.store,
    {
      clock,
      path: main.dbfile,
      reopen: () => Store.open(main.dbfile),
      copy: () => Store.openCopy(main.dbfile),
      faultOf: (e) => folderFault(main.dbfile, storeFaultOf(e)),
      log: (level, text) => log.line('database', level, text),
    },
    opened.fault,
  );
  const store = opened.store; // for reads at start; the writer may later swap in a fresh handle (writer.store)
  const commandActions = await commandActionsOf(cfg); // checked by runDaemon, with buildBackends
  const backends = new Map<string, ActionBackend[]>();
  for (const j of cfg.jails) {
    const list: ActionBackend[] = [];
    for (const spec of j.actions) {
      const r = createBackend(spec, { clock, commandActions });
      if (!r.ok) {
        for (const e of r.errors) process.stderr.write(`${formatDiagnostic(e)}\n`);
        store.close();
        await metrics?.server.close();
        return EX_CONFIG;
      }
      list.push(r.value);
    }
    backends.set(j.spec.config.name, list);
  }
  // One resolver for every jail with usedns yes/warn (sentryban.yaml `dns:`; default 5 min cache, 5 s timeout,
  // 2 lookups).
  const hosts = new HostFailures(new HostResolver({ clock, ...main.dns }), (level, text) =>
    log.line('ipdns', level, text),
  );
  const timed = metrics ? { timed: metrics.timed } : {};
  const manager = new BanManager(cfg.jails, { store, clock, log, backends, hosts, writer, ...timed });
  metrics?.watch({ counters: () => manager.counters(), dbfile: main.dbfile });
  const refreshSelf = (): void => manager.setSelf({ kind: 'self', addrs: ownAddrs() });
  refreshSelf();
  const started = await manager.start();
  log.line(
    'server',
    'INFO',
    `Restored ${started.restored} ban(s) in force, lifted ${started.lifted} that ended while stopped`,
  );
  manager.repairs.startPeriodic(main.checkIntervalSec);
  const fleet = startFleet(cfg, manager, writer, clock, log); // null: no fleet: in sentryban.yaml
  if (fleet) metrics?.watchFleet(() => fleet.counters());
  const idleGc = new IdleCollector();
  // The journal source (and execa's ~130 modules behind it) is loaded only when a jail reads the journal.
  let journald: typeof import('./sources/journald.js') | null = null;
  const loadJournald = async (jails: readonly LoadedJail[]): Promise<void> => {
    if (!journald && jails.some((j) => j.spec.backend.kind === 'systemd'))
      journald = await import('./sources/journald.js');
  };
  await loadJournald(cfg.jails);
  // Each jail's log sources, by jail: a reload stops and starts them one jail at a time.
  const sources = new Map<string, { stop(): void | Promise<void> }>();
  const startSources = (j: LoadedJail): void => {
    const name = j.spec.config.name;
    const onLines = (lines: LogLine[]): void => {
      void manager.lines(name, lines);
      idleGc.poke(lines.length);
    };
    if (j.spec.backend.kind === 'systemd') {
      sources.set(name, followJail(journald, j, j.spec.backend.options, writer.store, clock, log, onLines));
      log.line('jail', 'INFO', `Jail '${name}' started`);
      return;
    }
    const paths = j.spec.logpaths.map((lp) => ({ ...lp, path: resolve(cfg.dir, lp.path) }));
    const src = new JailSources(paths, writer.store.positions(name), clock, onLines, (e) => {
      const retry = e.kind === 'unreadable' ? ', will retry' : '';
      log.line(
        'filter',
        e.kind === 'unreadable' || e.kind === 'overlong' ? 'WARNING' : 'INFO',
        `[${name}] ${e.path}: ${e.kind}${e.reason ? ` (${e.reason})${retry}` : ''}`,
      );
    });
    src.start();
    sources.set(name, src);
    log.line('jail', 'INFO', `Jail '${name}' started`);
  };
  const stopSources = async (name: string): Promise<void> => {
    await sources.get(name)?.stop();
    sources.delete(name);
  };
  for (const j of cfg.jails) startSources(j);

  // Reload (SIGHUP or `sentryban reload [jail]`), one at a time: the whole new config is loaded and checked
  // first; any error leaves the running config as it is. Then (daemon/reload.ts) the changed jails' sources stop,
  // the manager takes the new jails in its queue (after every batch already read), and the new sources start
  // from the positions committed by then, so no line is read twice or skipped.
  let running: Running = { cfg, backends };
  const reloads = new Serial();
  const reload = (only: string | null): Promise<ReloadReply> =>
    reloads.run(async (): Promise<ReloadReply> => {
      sd.notify({ RELOADING: 1, STATUS: `reloading${only ? ` jail ${only}` : ''}` });
      const refuse = (errors: readonly Diagnostic[]): ReloadReply => {
        const text = errors.map(formatDiagnostic);
        for (const e of text) log.line('server', 'ERROR', `reload refused: ${e}`);
        return { ok: false, errors: text };
      };
      const next = await reloadConfig();
      if (!next.ok) return refuse(next.errors);
      const built = await buildBackends(next.value, clock);
      if (!built.ok) return refuse(built.errors);
      const plan = planReload(running, next.value, built.value, only);
      if (typeof plan === 'string') return { ok: false, errors: [plan] };
      for (const name of plan.stopSources) await stopSources(name);
      await manager.reconfigure(plan.change);
      for (const name of plan.summary.removed) log.line('jail', 'INFO', `Jail '${name}' stopped`);
      await loadJournald(plan.startSources);
      for (const j of plan.startSources) startSources(j);
      running = { cfg: plan.cfg, backends: plan.backends };
      const { added, removed, reloaded } = plan.summary;
      log.line(
        'server',
        'NOTICE',
        `Reloaded${only ? ` jail ${only}` : ''}: ${reloaded.length} jail(s) reloaded, ${added.length} added, ${removed.length} removed${
          plan.restartNeeded.length ? `; unchanged until a restart: ${plan.restartNeeded.join(', ')}` : ''
        }`,
      );
      return { ok: true, added, removed, reloaded, restartNeeded: plan.restartNeeded };
    }, readyAgain);
  const ctlLog = (level: string, text: string): void => log.line('control', level, text);
  const server = await startControlServer(
    main.socket,
    {
      manager,
      get store() {
        return writer.store;
      },
      reload,
      configDir: cfg.dir,
    },
    { log: ctlLog },
  );
  if (peerCredStatus !== 'loaded') {
    ctlLog('WARNING', `control socket: peer uid not checked (${peerCredStatus}); its file mode is the only check`);
  }
  if (typeof server === 'string') {
    process.stderr.write(`sentryban: ${server}\n`);
    await fleet?.stop();
    for (const name of [...sources.keys()]) await stopSources(name);
    await manager.stop();
    writer.stop();
    writer.store.close();
    await metrics?.server.close();
    return 1;
  }
  const pidfile = join(main.stateDir, 'sentryban.pid');
  try {
    writeFileSync(pidfile, `${process.pid}\n`);
  } catch (e) {
    log.line('server', 'WARNING', `${pidfile}: ${(e as Error).message}`);
  }
  const selfTimer = setInterval(refreshSelf, main.selfRefreshSec * 1000);
  const purge = (): void => {
    const n = writer.purge(clock.now() - main.purgeAgeSec * 1000);
    if (n && n.audit + n.bans > 0)
      log.line(
        'database',
        'INFO',
        `Purged ${n.audit} audit row(s), ${n.bans} lifted ban(s) older than ${main.purgeAgeSec}s`,
      );
  };
  purge();
  const purgeTimer = setInterval(purge, 3_600_000);
  purgeTimer.unref();
  // The handlers stay installed until exit (`on`, not `once`): execa's signal-exit also listens while a command
  // runs, and when it finds itself the last listener it re-sends the signal, killing the daemon mid-shutdown.
  // A second signal during shutdown is ignored: the store and the running actions finish cleanly.
  // They are installed before "ready" is said: whoever reads it may signal at once, and a signal that arrives
  // before process.on() takes the default action (SIGTERM kills, SIGHUP too).
  const onHup = (): void => {
    log.line('server', 'INFO', 'SIGHUP: reloading the configuration');
    void reload(null);
  };
  process.on('SIGHUP', onHup);
  const stopped = new Promise<void>((res) => {
    process.on('SIGINT', () => res());
    process.on('SIGTERM', () => res());
  });
  if (metrics) log.line('server', 'INFO', `Metrics at http://${metrics.server.address.text}/metrics`);
  log.line('server', 'INFO', `Server ready (pid ${process.pid}, socket ${main.socket})`);
  process.stdout.write(`sentryban: ready\n`);
  sd.notify({ READY: 1, MAINPID: process.pid, STATUS: 'running' });
  await stopped;
  process.off('SIGHUP', onHup);
  sd.notify({ STOPPING: 1, STATUS: 'stopping' });
  await reloads.run(() => undefined); // a reload under way finishes first
  clearInterval(selfTimer);
  clearInterval(purgeTimer);
  idleGc.stop();
  for (const name of [...sources.keys()]) await stopSources(name);
  await server.close(); // open client connections too: an idle one would hold the shutdown
  await fleet?.stop(); // the outbox is kept in the store for the next start
  await metrics?.server.close();
  await manager.stop();
  await manager.repairs.stop(); // scheduled retries and the periodic check end; a running check finishes
  writer.stop(); // a last try to write what is queued; what cannot be is said
  writer.store.close();
  rmSync(pidfile, { force: true });
  log.line('server', 'INFO', 'Shutdown successful');
  return 0;
};

// A journal jail (backend systemd[...]): resume after the stored cursor, else read back one findtime (fail2ban).
const followJail = (
  journald: typeof import('./sources/journald.js') | null,
  j: LoadedJail,
  options: JournalOptions,
  store: Store,
  clock: Clock,
  log: DecisionLog,
  onLines: (lines: LogLine[]) => void,
): JournalFollower => {
  const name = j.spec.config.name;
  const key = `journal:${name}`;
  const cursor = store.positions(name).get(key)?.firstLineHash;
  const journalmatch = j.spec.journalmatch ?? j.filter.journalmatch;
  if (journalmatch.length === 0)
    log.line(
      'filtersystemd',
      'NOTICE',
      `[${name}] Jail started without 'journalmatch' set. Jail regexs will be checked against all journal entries, which is not advised for performance reasons.`,
    );
  if (!journald) throw new Error('journald source not loaded'); // loaded above whenever a jail reads the journal
  const f = new journald.JournalFollower({
    key,
    options,
    journalmatch,
    clock,
    onLines,
    start: cursor ? { cursor } : { sinceMs: clock.now() - j.spec.config.findtimeSec * 1000 },
    onError: (m) => log.line('filtersystemd', 'WARNING', `[${name}] ${m}`),
  });
  f.start();
  return f;
};
