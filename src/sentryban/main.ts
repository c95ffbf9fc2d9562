import './daemon/young-gen.js'; // first (bin/sentryban loads it earlier still)
import { releaseOptimizer } from '../core/start-up-jit.js';
import { handleBrokenStdout } from '../core/stdout.js';
import { VERBS, type Verb } from './control/protocol.js';

// Commands load their modules when run: `sentryban regex` does not pay for the daemon's (~0.1 s of start-up).
const usage = async (): Promise<string> => `usage: sentryban <command> [options]

commands:
  daemon [--config DIR] [--foreground] [--fail2ban-config /etc/fail2ban]   run the ban manager
             (--fail2ban-config adds the enabled jails of an existing fail2ban configuration)
  regex LOG FILTER [--json]              test a filter against a log (the peer of fail2ban-regex)
  replay LOG... [--config DIR] [--jail J] [--json] [--since T] [--until T]
             what the jails would have banned on past logs (.gz, - for stdin); no action, no store
  install [--root DIR] [--bindir DIR]    units, /etc/sentryban, /etc/portsentry, state folders, logrotate
  uninstall [--root DIR] [--purge]       removes what install wrote (edited files stay); docs/install.md
${(await import('./cli.js')).CLIENT_USAGE}
`;

export type Command = (argv: string[]) => Promise<number>;

// One entry per verb: the daemon, the regex tester, and the client verbs of the control socket.
export const COMMANDS: Record<string, Command> = {
  daemon: async (argv) => {
    const { parseDaemonArgs, runDaemon } = await import('./daemon.js');
    const o = parseDaemonArgs(argv);
    if (typeof o === 'string') {
      process.stderr.write(`sentryban daemon: ${o}\n`);
      return 64;
    }
    return runDaemon(o);
  },
  regex: async (argv) => (await import('./commands/regex.js')).runRegex(argv),
  replay: async (argv) => (await import('./commands/replay.js')).runReplay(argv),
  install: async (argv) => (await import('./commands/install.js')).runInstall('install', argv),
  uninstall: async (argv) => (await import('./commands/install.js')).runInstall('uninstall', argv),
  ...Object.fromEntries(
    VERBS.map((v: Verb) => [v, async (argv: string[]) => (await import('./cli.js')).runClient(v, argv)]),
  ),
};

export const main = async (argv: string[]): Promise<number> => {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(await usage());
    return argv.length === 0 ? 64 : 0;
  }
  const cmd = COMMANDS[argv[0] as string];
  handleBrokenStdout(argv[0] === 'daemon' ? 'drop' : 'exit');
  // The daemon, replay and regex release it once their config or filter is loaded (their modules and the filter's
  // translation, loaded in each of their threads, are start-up code too).
  if (argv[0] !== 'daemon' && argv[0] !== 'replay' && argv[0] !== 'regex') releaseOptimizer();
  if (cmd) return cmd(argv.slice(1));
  process.stderr.write(`sentryban: unknown command "${argv[0]}"\n${await usage()}`);
  return 64;
};
