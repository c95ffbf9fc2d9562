import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { handleBrokenStdout } from '../core/stdout.js';
import type { Addr } from '../core/addr.js';
import { systemClock } from '../core/clock.js';
import { BlockedStore } from './blocked.js';
import { modeOf, OPTIONS_HELP, parseCli, type CliOptions } from './cli.js';
import { detach, notifyParent } from './daemon.js';
import { modeFromDefault } from './default-file.js';
import type { DetectionMode } from './event.js';
import { FastAlert } from './fast-alert.js';
import { defaultGateways } from './gateways.js';
import { nativeAlert } from './sensors/trap-addon.js';
import { IgnoreGate } from './ignore-gate.js';
import { defaultTrapKind, tcpSensor } from './sensors/tcp.js';
import { OwnAddressWatch } from './own-addrs.js';
import * as L from './lines.js';
import { openLogger, type Logger } from './log.js';
import { ALL_MODE_FLAGS, MODES, type ModeEntry } from './modes.js';
import { Pipeline } from './pipeline.js';
import { checkPrivilege } from './privilege.js';
import { makeCommandRunner } from './run-command.js';
import { prepare } from './startup.js';
import { releaseOptimizer } from '../core/start-up-jit.js';
import { BindFailures, PS_EXIT } from './startup-hints.js';
import { StateEngine } from './trigger.js';

const out = (t: string): void => {
  process.stdout.write(t);
};
const err = (t: string): void => {
  process.stderr.write(t);
};

// 1.2's Exit(): two shutdown lines on every exit path, then the status.
const exitWith = async (logger: Logger, code: number): Promise<number> => {
  L.shuttingDown().forEach(logger.log);
  await logger.close();
  return code;
};

const reverseName = (): ((a: Addr) => Promise<string>) => {
  const resolver = new Resolver({ timeout: 3000, tries: 1 });
  return async (a) => {
    try {
      return (await resolver.reverse(a.text))[0] ?? a.text;
    } catch {
      return a.text;
    }
  };
};

// SIGTERM/SIGABRT/SIGURG end the daemon with the signal number as status (1.2); SIGINT too, for --foreground.
const waitForSignal = (): Promise<number> =>
  new Promise((resolve) => {
    for (const s of ['SIGHUP', 'SIGPIPE', 'SIGALRM'] as const) process.on(s, () => {});
    const nums: Record<string, number> = { SIGTERM: 15, SIGABRT: 6, SIGURG: 23, SIGINT: 2 };
    for (const [s, n] of Object.entries(nums)) process.once(s, () => resolve(n));
  });

const runMode = async (opts: CliOptions, mode: DetectionMode, entry: ModeEntry, logger: Logger): Promise<number> => {
  const io = { log: logger.log, out, err };
  if (!opts.daemonChild) logger.log(L.starting());
  const prep = await prepare(opts.config, mode, io, opts.daemonChild);
  if (!prep.ok) return exitWith(logger, prep.code);
  logger.remote(prep.conf.syslogRemote);
  if (!opts.foreground && !opts.daemonChild) {
    await logger.close();
    const started = await detach(process.argv[1] ?? '', [
      opts.mode ?? '',
      '--config',
      opts.config,
      '--hosts-deny',
      opts.hostsDeny,
    ]);
    if (started.status === 'ok') {
      if (started.note) err(`portsentry: ${started.note}\n`);
      return PS_EXIT.ok;
    }
    err(`portsentry: the daemon did not start: ${started.note ?? 'see syslog for why'}\n`);
    return PS_EXIT.notStarted;
  }
  if (opts.daemonChild) {
    process.umask(0o077);
  }
  // METRICS (ours): the endpoint before the sensor, so a bind failure starts nothing; its code is loaded only then.
  const metricsAt = prep.conf.metricsByMode[mode] ?? prep.conf.metrics;
  const metrics = metricsAt ? await (await import('./metrics.js')).startPortsentryMetrics(metricsAt) : null;
  if (typeof metrics === 'string') {
    const key = `METRICS_${mode.toUpperCase()}`;
    const why = metrics.endsWith('EADDRINUSE')
      ? `${metrics} (each running mode needs a port of its own: ${key})`
      : metrics;
    logger.log(L.metricsFailed(why));
    if (!opts.daemonChild) err(`portsentry: not started: ${why}\n`);
    notifyParent('failed', why);
    return exitWith(logger, 255);
  }
  const run = makeCommandRunner();
  const own = new OwnAddressWatch(systemClock);
  const gateways = new OwnAddressWatch(systemClock, { read: defaultGateways });
  const ignore = new IgnoreGate(prep.ignoreFile, own.get, gateways.get);
  let fast: FastAlert | null = null;
  const pipeline = new Pipeline({
    conf: prep.conf,
    log: logger.log,
    ignore,
    engine: new StateEngine(prep.conf.scanTrigger ?? 0),
    store: new BlockedStore(prep.blockedFile, prep.historyFile),
    hostsDeny: opts.hostsDeny,
    run: metrics ? metrics.timed(run) : run,
    resolve: reverseName(),
    now: () => new Date(),
    echo: logger.echo,
    onIdle: () => {
      fast?.ready();
    },
  });
  metrics?.watch(pipeline);
  // The sensor's start-up lines say which ports could not be bound; after start-up nothing more is looked at.
  let binds: BindFailures | null = new BindFailures();
  const sensor = entry.sensor(prep.conf, {
    log: (line) => {
      binds?.see(line);
      logger.log(line);
    },
    submit: (ev, h) => {
      void pipeline.submit(ev, h);
    },
    clock: systemClock,
  });
  const started = await sensor.start();
  releaseOptimizer(); // start-up is over: the probes' path is optimized as usual
  const seen = binds;
  binds = null;
  if (!started) {
    logger.log(L.notPortsentryMode());
    const why = seen.explain(opts.config, false);
    if (!opts.daemonChild) err(`portsentry: not started: ${why}\n`);
    notifyParent('failed', why);
    await sensor.stop();
    await metrics?.server.close();
    own.stop();
    gateways.stop();
    return exitWith(logger, 255);
  }
  // -tcp on the native trap ports: the attackalert line may leave from C (fast-alert.ts says when).
  if (mode === 'tcp' && entry.sensor === tcpSensor && defaultTrapKind === 'native')
    fast = FastAlert.open(nativeAlert, prep.conf, ignore, logger);
  if (metrics) logger.log(L.metricsListening(metrics.server.address.text));
  // The handlers first: whoever reads "active" may send SIGTERM at once, and a SIGTERM that arrives before
  // process.on() is called takes the default action (killed by the signal, no exit status 15).
  const signalled = waitForSignal();
  logger.log(L.active());
  const partly = seen.explain(opts.config, true);
  if (partly && !opts.daemonChild) err(`portsentry: ${partly}\n`);
  notifyParent('ok', partly);
  const signal = await signalled;
  fast?.close();
  await sensor.stop();
  pipeline.stop();
  await metrics?.server.close();
  own.stop();
  gateways.stop();
  return exitWith(logger, signal);
};

// The line beside 1.2's usage text: what was wrong with the command line, and what would be right.
const OUR_FLAGS = ['--foreground', '--stdout', '--daemon-child', '--help', '-h', '--mode-from'];
const usageHint = (argv: readonly string[]): string => {
  const modes = `one of ${ALL_MODE_FLAGS.map((m) => `-${m}`).join(', ')}`;
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--config' || a === '--hosts-deny') {
      if (!argv[++i]) return `${a} needs a path; see portsentry --help`;
    } else if (a === '--mode-from') {
      if (!argv[++i] || !['tcp', 'udp'].includes(argv[++i] ?? '')) return '--mode-from needs FILE and tcp or udp';
    } else if (a.startsWith('--') && !OUR_FLAGS.includes(a)) return `unknown option ${a}; see portsentry --help`;
    else if (!a.startsWith('--')) pos.push(a);
  }
  if (argv.includes('--mode-from') && pos.length > 0)
    return `--mode-from takes the place of a mode flag (got ${pos[0]})`;
  if (pos.length === 0) return `no mode given: expected ${modes}`;
  if (pos.length > 1) return `one mode per process (got ${pos.join(' ')}): run one portsentry for each`;
  return `"${pos[0] ?? ''}" is not a mode: expected ${modes}`;
};

// --mode-from: the mode Debian's /etc/default/portsentry names (default-file.ts), or the exit status when none
// runs (0: nothing to start, as the init script; 1: not a valid mode).
const chooseMode = (file: string, proto: 'tcp' | 'udp'): DetectionMode | number => {
  let text: string | null = null;
  try {
    text = readFileSync(file, 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      err(`portsentry: ${file}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  const c = modeFromDefault(text, file, proto);
  if (c.kind === 'run') return c.mode;
  err(`portsentry: ${c.kind === 'skip' ? c.note : c.message}\n`);
  return c.kind === 'skip' ? 0 : 1;
};

export const main = async (argv: string[]): Promise<number> => {
  handleBrokenStdout('drop');
  const cli = parseCli(argv);
  if (cli.kind === 'help') {
    out(L.USAGE + OPTIONS_HELP);
    return 0;
  }
  if (cli.kind === 'run' && cli.opts.modeFrom) {
    const chosen = chooseMode(cli.opts.modeFrom.file, cli.opts.modeFrom.proto);
    if (typeof chosen === 'number') return chosen;
    cli.opts.mode = `-${chosen}`;
  }
  const logger = openLogger({ stdout: cli.kind === 'run' && cli.opts.stdout });
  if (cli.kind === 'usage') {
    out(L.USAGE);
    err(`portsentry: ${usageHint(argv)}\n`);
    return exitWith(logger, 255);
  }
  if (!logger.syslogAvailable)
    err('portsentry: warning: /dev/log is missing: syslog lines are dropped (--stdout prints them)\n');
  const mode = modeOf(cli.opts.mode);
  const priv = checkPrivilege(cli.opts.config, mode, mode ? MODES[mode] : undefined);
  if (!priv.ok) {
    out(L.NEED_ROOT);
    if (priv.hint) err(`portsentry: ${priv.hint}\n`);
    return exitWith(logger, 255);
  }
  const entry = mode ? MODES[mode] : undefined;
  if (!mode || !entry) {
    out(L.USAGE);
    err(`portsentry: ${mode ? `mode -${mode} is not available in this build` : usageHint(argv)}\n`);
    return exitWith(logger, 255);
  }
  return runMode(cli.opts, mode, entry, logger);
};
