const USAGE = `usage: sentryban <command> [options]

commands:
  daemon     run the ban manager
  regex      test a filter against a log (the peer of fail2ban-regex)
  status, ban, unban, list, audit, test   talk to a running daemon
`;

export const main = async (argv: string[]): Promise<number> => {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 64 : 0;
  }
  process.stderr.write(`sentryban: unknown command "${argv[0]}"\n${USAGE}`);
  return 64;
};
