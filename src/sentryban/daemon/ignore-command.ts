import type { Failure } from '../types.js';

// ignorecommand: an argv (split at load, no shell) with <ip> and <F-*> tags substituted per argument.
// Exit 0 ignores, 1 does not, anything else is an error (not ignored), as fail2ban does.
export type CommandVerdict = { ignore: boolean; error?: string };

export const runIgnoreCommand = async (
  argv: readonly string[],
  f: Failure,
  timeoutMs = 10_000,
): Promise<CommandVerdict> => {
  const tags: Record<string, string> = { ip: f.addr?.text ?? f.id, fid: f.id, ...(f.user ? { 'F-USER': f.user } : {}) };
  for (const [k, v] of Object.entries(f.groups)) if (v !== undefined) tags[`F-${k.toUpperCase()}`] = v;
  const args = argv.map((a) => a.replace(/<([A-Za-z][A-Za-z0-9_-]*)>/g, (m, name: string) => tags[name] ?? m));
  const [cmd, ...rest] = args;
  if (!cmd) return { ignore: false, error: 'empty ignorecommand' };
  const { execa } = await import('execa'); // loaded on first use: most jails have no ignorecommand
  const r = await execa(cmd, rest, { reject: false, timeout: timeoutMs, stdin: 'ignore' });
  if (r.exitCode === 0) return { ignore: true };
  if (r.exitCode === 1) return { ignore: false };
  return {
    ignore: false,
    error: `ignorecommand ${cmd} failed (exit ${String(r.exitCode)}): ${String(r.stderr).slice(0, 200)}`,
  };
};
