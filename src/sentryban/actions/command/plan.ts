import { substituteMacros } from '../../../core/argv-template.js';
import type { Ban } from '../../types.js';
import type { CommandAction, Verb } from './load.js';

// Macro values for one jail (and one ban for ban/unban). Values never split an argument: no shell sees them.
export type JailContext = { jail: string; port: string; protocol: string; params: Readonly<Record<string, string>> };

export const macroValues = (ctx: JailContext, ban?: Ban): Record<string, string> => {
  const v: Record<string, string> = { JAIL: ctx.jail, PORT: ctx.port, PROTOCOL: ctx.protocol };
  for (const [k, x] of Object.entries(ctx.params)) v[k.toUpperCase()] = x;
  if (ban) {
    v.ADDRESS = ban.target.isHost() ? ban.target.base.text : ban.target.text;
    v.CIDR = ban.target.text;
    v.FAMILY = ban.target.base.family === 4 ? 'inet4' : 'inet6';
    v.BANTIME = String(ban.bantimeSec);
    v.BANCOUNT = String(ban.banCount);
    v.EXPIRES = ban.expiresAt === null ? '-1' : String(Math.floor(ban.expiresAt / 1000));
  }
  return v;
};

export const planCommands = (a: CommandAction, verb: Verb, ctx: JailContext, ban?: Ban): string[][] =>
  a.commands[verb].map((argv) => substituteMacros(argv, macroValues(ctx, ban)));
