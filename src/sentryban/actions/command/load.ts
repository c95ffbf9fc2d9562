import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { load } from 'js-yaml';
import { splitCommandTemplate } from '../../../core/argv-template.js';
import { parseDurationSec } from '../../../core/duration.js';
import { closest, diag, fail, ok, type Diagnostic, type Result } from '../../../core/diagnostics.js';

// A command action from actions/<name>.yaml: argv templates per verb, split at load (no shell, ever), with
// named $MACRO$s checked against what each verb can know.
export type Verb = 'start' | 'ban' | 'unban' | 'check';
export const VERBS: readonly Verb[] = ['start', 'ban', 'unban', 'check'];
// fail2ban's actionflush/actionstop have no place here: the daemon keeps its bans in force when it stops and never
// empties an action, so commands given for them would never run.
const NEVER_RUN = ['flush', 'stop'];
export type CommandAction = {
  name: string;
  file: string;
  timeoutMs: number;
  params: Readonly<Record<string, string>>; // defaults; a jail may override each
  commands: Readonly<Record<Verb, readonly (readonly string[])[]>>;
};

// Per-ban macros (ban, unban); set-wide verbs only know the jail-level ones.
export const BAN_MACROS = ['ADDRESS', 'CIDR', 'FAMILY', 'BANTIME', 'BANCOUNT', 'EXPIRES'];
export const JAIL_MACROS = ['JAIL', 'PORT', 'PROTOCOL'];
export const COMMAND_ACTION_KEYS = ['description', 'timeout', 'params', ...VERBS];

export const parseCommandAction = (text: string, file: string): Result<CommandAction> => {
  const name = basename(file).replace(/\.ya?ml$/, '');
  let doc: unknown;
  try {
    doc = load(text);
  } catch (e) {
    const m = (e as { mark?: { line?: number; column?: number } }).mark;
    return fail([
      diag(
        file,
        (m?.line ?? -1) + 1,
        `YAML: ${String((e as Error).message).split('\n')[0]}`,
        '',
        (m?.column ?? -1) + 1,
      ),
    ]);
  }
  const errors: Diagnostic[] = [];
  const at = (key: string, message: string, path = key): void => {
    errors.push(diag(file, lineOf(text, key), message, path));
  };
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    return fail([diag(file, 1, 'expected a mapping of verbs (ban, unban, ...) to commands')]);
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (NEVER_RUN.includes(k))
      at(k, `"${k}" is never run: sentryban keeps bans in force when it stops (see docs/actions.md); remove it`);
    else if (!COMMAND_ACTION_KEYS.includes(k)) {
      const h = closest(k, COMMAND_ACTION_KEYS);
      at(k, `unknown key${h ? ` (did you mean "${h}"?)` : ''}; known: ${COMMAND_ACTION_KEYS.join(', ')}`);
    }
  const params: Record<string, string> = {};
  const p = o.params ?? {};
  if (typeof p !== 'object' || Array.isArray(p))
    at('params', 'expected a mapping of parameter names to default values');
  else
    for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
      if (!/^[a-z][a-z0-9_]*$/.test(k)) at(k, 'parameter names are lower-case letters, digits and _', `params.${k}`);
      else if (typeof v === 'object' && v !== null)
        at(k, 'a parameter default is a string or a number, not a list or a mapping', `params.${k}`);
      else params[k] = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
    }
  const timeoutText =
    typeof o.timeout === 'string' || typeof o.timeout === 'number'
      ? String(o.timeout)
      : o.timeout === undefined
        ? '30s'
        : JSON.stringify(o.timeout);
  const timeoutSec = parseDurationSec(timeoutText);
  if (timeoutSec === null || timeoutSec <= 0) at('timeout', `expected a duration such as "10s", got "${timeoutText}"`);
  if (o.ban === undefined) at('ban', 'a command action needs at least a ban command', 'ban');
  const commands = {} as Record<Verb, string[][]>;
  for (const verb of VERBS) {
    const known = new Set([
      ...JAIL_MACROS,
      ...Object.keys(params).map((k) => k.toUpperCase()),
      ...(verb === 'ban' || verb === 'unban' ? BAN_MACROS : []),
    ]);
    commands[verb] = [];
    const v = o[verb];
    if (v === undefined || v === null) continue;
    const list = Array.isArray(v) ? v : [v];
    list.forEach((cmd, i) => {
      const path = Array.isArray(v) ? `${verb}[${i}]` : verb;
      if (typeof cmd !== 'string') {
        at(verb, 'expected a command line (a string)', path);
        return;
      }
      for (const m of cmd.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)\$/g)) {
        const macro = m[1] as string;
        if (known.has(macro)) continue;
        const hint = closest(macro, [...known]);
        at(
          verb,
          `unknown macro $${macro}$ for ${verb}${hint ? ` (did you mean $${hint}$?)` : ''}; known here: ${[...known].sort().join(', ')}`,
          path,
        );
        return;
      }
      const r = splitCommandTemplate(cmd, (n) => known.has(n));
      if (!r.ok) at(verb, r.message, path);
      else commands[verb].push(r.argv);
    });
  }
  if (errors.length) return fail(errors);
  return ok({ name, file, timeoutMs: (timeoutSec ?? 30) * 1000, params, commands });
};

export const loadCommandAction = async (file: string): Promise<Result<CommandAction>> => {
  try {
    return parseCommandAction(await readFile(file, 'utf8'), file);
  } catch (e) {
    return fail([diag(file, 0, `cannot read: ${String((e as Error).message)}`)]);
  }
};

// Every actions/*.yaml in a folder; all errors collected before refusing.
export const loadCommandActions = async (dir: string): Promise<Result<Map<string, CommandAction>>> => {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /\.ya?ml$/.test(n)).sort();
  const out = new Map<string, CommandAction>();
  const errors: Diagnostic[] = [];
  for (const n of names) {
    const r = await loadCommandAction(join(dir, n));
    if (r.ok) out.set(r.value.name, r.value);
    else errors.push(...r.errors);
  }
  return errors.length ? fail(errors) : ok(out);
};

const lineOf = (text: string, key: string): number => {
  const i = text
    .split('\n')
    .findIndex((l) => new RegExp(`^\\s*-?\\s*${key.replace(/[^A-Za-z0-9_]/g, '')}\\s*:`).test(l));
  return i < 0 ? 1 : i + 1;
};
