import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from './control/client.js';
import { schemaCheckOn, schemaFile, schemaProblem } from './control/schema-check.js';
import type { Verb } from './control/protocol.js';
import { Fields } from './config/fields.js';
import { JAIL_KEYS } from './config/jail-file.js';
import { readMain } from './config/main-file.js';
import { parseYamlTree } from './config/yaml-tree.js';
import { defaultConfigDir } from './daemon.js';

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

const socketFor = (configDir: string): string => {
  const file = join(configDir, 'sentryban.yaml');
  const tree = existsSync(file) ? parseYamlTree(readFileSync(file, 'utf8'), file) : null;
  return readMain(new Fields(), tree?.ok ? tree.value : null, configDir, JAIL_KEYS).socket;
};

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
  const reply = await request(socket ?? socketFor(configDir), verb, args);
  if (!reply.ok) {
    process.stderr.write(`sentryban ${verb}: ${reply.error}\n`);
    return 1;
  }
  if (json && schemaCheckOn()) {
    const problem = await schemaProblem(verb, reply.result);
    if (problem) {
      process.stderr.write(`sentryban ${verb}: reply does not fit ${schemaFile(verb)}: ${problem}\n`);
      return 70; // EX_SOFTWARE
    }
  }
  process.stdout.write(json ? `${JSON.stringify(reply.result)}\n` : render(verb, reply.result));
  return verb === 'check' && Array.isArray(reply.result) && reply.result.some((r: { ok: boolean }) => !r.ok) ? 1 : 0;
};

// A command line the client refuses before asking the daemon: one line and exit 64 (EX_USAGE).
const usageError = (verb: Verb, why: string): number => {
  process.stderr.write(`sentryban ${verb}: ${why}\n`);
  return 64;
};

const render = (verb: Verb, r: unknown): string => {
  if (verb === 'list' && Array.isArray(r)) {
    return r
      .map(
        (b: {
          jail: string;
          target: string;
          expiresAt: string | null;
          bantime: string;
          applied: string;
          backends: Record<string, string>;
        }) => {
          const bad = Object.entries(b.backends)
            .filter(([, v]) => v !== 'applied')
            .map(([k, v]) => `${k}: ${v}`);
          return `${b.jail}\t${b.target}\t${b.expiresAt ?? 'permanent'}\t${b.bantime}\t${b.applied}${bad.length ? ` (${bad.join(', ')})` : ''}\n`;
        },
      )
      .join('');
  }
  if (verb === 'check' && Array.isArray(r)) {
    return r
      .map(
        (c: { jail: string; backend: string; ok: boolean; repaired: string | null; error: string | null }) =>
          `${c.jail}\t${c.backend}\t${!c.ok ? `FAILED: ${c.error ?? ''}` : c.repaired ? `repaired: ${c.repaired}` : 'in sync'}\n`,
      )
      .join('');
  }
  if (verb === 'audit' && Array.isArray(r)) {
    return r
      .map(
        (x: { at: string; jail: string; kind: string; target: string | null; detail: string }) =>
          `${x.at} [${x.jail}] ${x.kind} ${x.target ?? '-'}: ${x.detail}\n`,
      )
      .join('');
  }
  if (verb === 'banned' && Array.isArray(r)) {
    return r
      .map((x: { jail?: string; targets?: string[]; target?: string; jails?: string[] }) =>
        x.jail !== undefined
          ? `${x.jail}\t${(x.targets ?? []).join(' ')}\n`
          : `${x.target ?? ''}\t${(x.jails ?? []).join(' ') || '(not banned)'}\n`,
      )
      .join('');
  }
  if (verb === 'flush' && r && typeof r === 'object' && 'unbanned' in r) {
    const x = r as { jail: string; unbanned: number };
    return `${x.jail}: ${x.unbanned} ban(s) lifted\n`;
  }
  if (verb === 'get' && r && typeof r === 'object' && 'value' in r) {
    const v = r.value;
    if (Array.isArray(v)) return v.map((x) => `${typeof x === 'string' ? x : JSON.stringify(x)}\n`).join('');
    return `${v === null ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v)}\n`;
  }
  if (verb === 'reload' && r && typeof r === 'object' && 'reloaded' in r) {
    const x = r as { added: string[]; removed: string[]; reloaded: string[]; restartNeeded: string[] };
    const names = (l: string[]): string => (l.length ? l.join(', ') : 'none');
    return `reloaded: ${names(x.reloaded)}; added: ${names(x.added)}; removed: ${names(x.removed)}\n${
      x.restartNeeded.length ? `unchanged until a restart: ${x.restartNeeded.join(', ')}\n` : ''
    }`;
  }
  return `${JSON.stringify(r, null, 2)}\n`;
};
