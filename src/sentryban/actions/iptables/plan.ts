import type { Blocktype, PortMatch } from '../spec.js';
import { iptablesTarget } from '../blocktype.js';

// iptables/ip6tables plans. Structural changes go through `iptables-restore -w --noflush` as one batch per family:
// declaring our chain in the batch flushes and refills it atomically; hook rules we find are deleted by their
// saved text and inserted afresh, so the batch never depends on what is there.

export type Family = 4 | 6;
export const TOOL: Readonly<Record<Family, { cmd: string; save: string; restore: string }>> = {
  4: { cmd: 'iptables', save: 'iptables-save', restore: 'iptables-restore' },
  6: { cmd: 'ip6tables', save: 'ip6tables-save', restore: 'ip6tables-restore' },
};

// The match part of a hook rule, one per protocol ("-p tcp -m multiport --dports 22,1000:2000").
export const planMatches = (m: PortMatch): string[][] => {
  if (m.protocols === 'all') return [[]];
  return m.protocols.map((p) =>
    m.ports === 'all' ? ['-p', p] : ['-p', p, '-m', 'multiport', '--dports', m.ports.join(',')],
  );
};

// Rules in the hook chains (INPUT ...): each protocol's match followed by `tail` (a jump, or a set match + target).
export const planHookRules = (hooks: readonly string[], m: PortMatch, tail: readonly string[]): string[][] =>
  hooks.flatMap((h) => planMatches(m).map((match) => [h, ...match, ...tail]));

// A tcp-reset reply is only valid on a rule that matches tcp (options refuse it for other protocols).
export const planSourceRule = (chain: string, source: string, b: Blocktype, f: Family): string[] => [
  chain,
  '-s',
  source,
  ...(b.kind === 'reject' && b.with.v4 === 'tcp-reset' ? ['-p', 'tcp'] : []),
  ...iptablesTarget(b, f),
];

// Quote an argument for iptables-restore's line parser (it splits on spaces, honours double quotes).
const q = (a: string): string => (/^[A-Za-z0-9_.:/,!-]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`);
const line = (op: string, args: readonly string[]): string => [op, ...args.map(q)].join(' ');

export type RestorePlan = {
  chain?: { name: string; rules: readonly string[][] }; // declared (so flushed) then filled
  deleteSaved: readonly string[]; // "-A INPUT ..." lines from iptables-save, deleted as they are
  insert: readonly string[][]; // hook rules inserted at the top of their chain
};

export const planRestoreText = (p: RestorePlan): string => {
  const out = ['*filter'];
  if (p.chain) out.push(`:${p.chain.name} - [0:0]`);
  for (const s of p.deleteSaved) out.push(`-D${s.slice(2)}`);
  if (p.chain) for (const r of p.chain.rules) out.push(line('-A', r));
  for (const r of [...p.insert].reverse()) out.push(line('-I', [r[0] ?? 'INPUT', '1', ...r.slice(1)]));
  out.push('COMMIT');
  return `${out.join('\n')}\n`;
};
