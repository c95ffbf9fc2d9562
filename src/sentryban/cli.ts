import { ask } from './control/client.js';
import { socketFor } from './control/client-config.js';
import { formatReply } from './control/layout.js';
import type { JailSources } from './control/layout-status.js';
import { isColourWanted, paintFor } from './control/layout-style.js';
import { schemaCheckOn, schemaFile, schemaProblem } from './control/schema-check.js';
import type { Verb } from './control/protocol.js';
import { EXIT, explainUnreachable } from './control/unreachable.js';
import { defaultConfigDir } from './this-host.js';

// The client verbs: `sentryban status|ban|unban|list|audit|test ...` over the control socket.
export const CLIENT_USAGE = `  status [jail]                   jails, counters, next expiry (one jail: with its bans)
  ban <jail> <addr|cidr>          ban by hand (bantime and increment as configured)
  unban <addr|cidr> [jail]        lift a ban (all jails unless one is named)
  unban --all [jail]              lift every ban (of every jail unless one is named)
  flush <jail>                    lift every ban of one jail
  banned [addr...]                which jails ban each address (none given: every jail's banned targets)
  get <jail> <key>                a jail's effective setting (maxretry, bantime, ignoreip, logpath, failregex ...)
  list [jail]                     bans in force, and whether every action has them applied
  check [jail]                    run every action's check against the store now; repairs what is missing
  reload [jail]                   re-read the config (checked in full first; a bad one changes nothing)
  audit [--jail J] [--addr A] [--limit N]   the audit trail
  test <jail> <log line>          what the jail's filter and a fresh jail make of one line
  client options: --config DIR | --socket PATH, --json`;

export const runClient = async (verb: Verb, argv: string[]): Promise<number> => {
  const pos: string[] = [];
  const args: Record<string, string | number> = {};
  let socket: string | null = null;
  let configDir = defaultConfigDir();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--socket') socket = argv[++i] ?? '';
    else if (a === '--config') configDir = argv[++i] ?? '';
    else if (a === '--json') json = true;
    else if (a === '--all' && verb === 'unban') args.all = 1;
    else if (a === '--jail') args.jail = argv[++i] ?? '';
    else if (a === '--addr') args.target = argv[++i] ?? '';
    else if (a === '--limit') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1)
        return usageError(
          verb,
          `--limit expects a whole number of rows, 1 or more (got ${JSON.stringify(argv[i] ?? '')})`,
        );
      args.limit = n;
    } else if (a.startsWith('--')) return usageError(verb, `unknown option ${a}`);
    else pos.push(a);
  }
  if (socket === '' || configDir === '')
    return usageError(verb, `${socket === '' ? '--socket' : '--config'} needs a path`);
  const shape: Record<Verb, string[]> = {
    status: ['jail'],
    list: ['jail'],
    audit: [],
    ban: ['jail', 'target'],
    unban: ['target', 'jail'],
    test: ['jail', 'line'],
    check: ['jail'],
    reload: ['jail'],
    banned: ['targets'],
    flush: ['jail'],
    get: ['jail', 'key'],
  };
  if (verb === 'unban' && args.all === 1) shape.unban = ['jail'];
  if (verb === 'banned') {
    if (pos.length) args.targets = pos.join(',');
    pos.length = 0;
  }
  if (!shape[verb].includes('line') && pos.length > shape[verb].length)
    return usageError(verb, `unexpected argument ${JSON.stringify(pos[shape[verb].length])}`);
  shape[verb].forEach((k, i) => {
    const v = k === 'line' ? pos.slice(i).join(' ') : pos[i];
    if (v) args[k] = v;
  });
  const path = socket ?? socketFor(configDir);
  // `status JAIL` asks where the jail reads from at the same time (fail2ban prints it; the reply does not carry it).
  const wantSources = verb === 'status' && typeof args.jail === 'string' && !json;
  const [asked, sources] = await Promise.all([
    ask(path, verb, args),
    wantSources ? sourcesOf(path, String(args.jail)) : Promise.resolve(null),
  ]);
  if (asked.kind === 'unreachable') {
    const { text, code } = explainUnreachable(asked.why, verb);
    process.stderr.write(`sentryban ${verb}: ${text}\n`);
    return code;
  }
  const reply = asked.reply;
  if (!reply.ok) {
    process.stderr.write(`sentryban ${verb}: ${reply.error}\n`);
    return EXIT.refused;
  }
  if (json && schemaCheckOn()) {
    const problem = await schemaProblem(verb, reply.result);
    if (problem) {
      process.stderr.write(`sentryban ${verb}: reply does not fit ${schemaFile(verb)}: ${problem}\n`);
      return EXIT.software;
    }
  }
  const env = {
    now: Date.now(),
    paint: paintFor(isColourWanted(process.stdout, process.env)),
    sources,
  };
  process.stdout.write(json ? `${JSON.stringify(reply.result)}\n` : formatReply(verb, reply.result, env, args));
  const failed = verb === 'check' && Array.isArray(reply.result) && reply.result.some((r: { ok: boolean }) => !r.ok);
  return failed ? EXIT.refused : 0;
};

// fail2ban's "File list" (or "Journal matches") of `status JAIL`, as the daemon follows them (`get`); null when it
// does not say (a daemon without `get`).
const sourcesOf = async (path: string, jail: string): Promise<JailSources> => {
  const get = async (key: string): Promise<unknown> => {
    const r = await ask(path, 'get', { jail, key });
    return r.kind === 'reply' && r.reply.ok ? (r.reply.result as { value?: unknown }).value : undefined;
  };
  const [backend, paths] = await Promise.all([get('backend'), get('logpath')]);
  if (backend === 'systemd') {
    const m = await get('journalmatch');
    return { kind: 'journal', matches: Array.isArray(m) ? m.map(String) : null };
  }
  return backend !== undefined && Array.isArray(paths) ? { kind: 'files', paths: paths.map(String) } : null;
};

// A command line the client refuses before asking the daemon: one line and exit 64 (EX_USAGE).
const usageError = (verb: Verb, why: string): number => {
  process.stderr.write(`sentryban ${verb}: ${why}\n`);
  return EXIT.usage;
};
