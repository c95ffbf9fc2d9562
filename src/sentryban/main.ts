import { runRegex } from './commands/regex.js';

const USAGE = `usage: sentryban <command> [options]

commands:
  daemon     run the ban manager
  regex      test a filter against a log (the peer of fail2ban-regex)
  status, ban, unban, list, audit, test   talk to a running daemon
`;

export type Command = (argv: string[]) => Promise<number>;

// One entry per verb; other areas add theirs (daemon, client verbs) beside these.
export const COMMANDS: Record<string, Command> = {
  regex: (argv) => runRegex(argv),
};

export const main = async (argv: string[]): Promise<number> => {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 64 : 0;
  }
  const cmd = COMMANDS[argv[0] as string];
  if (cmd) return cmd(argv.slice(1));
  process.stderr.write(`sentryban: unknown command "${argv[0]}"\n${USAGE}`);
  return 64;
};
