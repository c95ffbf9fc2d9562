import type { Blocktype } from './spec.js';
import { DEFAULT_REJECT } from './spec.js';

// The ICMP replies we accept, by their iptables names, with the ip6tables and nft equivalents.
const REPLIES: Readonly<Record<string, { v4: string; v6: string; nft: string }>> = {
  'icmp-port-unreachable': { v4: 'icmp-port-unreachable', v6: 'icmp6-port-unreachable', nft: 'icmpx port-unreachable' },
  'icmp6-port-unreachable': {
    v4: 'icmp-port-unreachable',
    v6: 'icmp6-port-unreachable',
    nft: 'icmpx port-unreachable',
  },
  'port-unreach': { v4: 'icmp-port-unreachable', v6: 'icmp6-port-unreachable', nft: 'icmpx port-unreachable' },
  'icmp-host-unreachable': { v4: 'icmp-host-unreachable', v6: 'icmp6-addr-unreachable', nft: 'icmpx host-unreachable' },
  'icmp-net-unreachable': { v4: 'icmp-net-unreachable', v6: 'icmp6-no-route', nft: 'icmpx no-route' },
  'icmp-host-prohibited': { v4: 'icmp-host-prohibited', v6: 'icmp6-adm-prohibited', nft: 'icmpx admin-prohibited' },
  'icmp-admin-prohibited': { v4: 'icmp-admin-prohibited', v6: 'icmp6-adm-prohibited', nft: 'icmpx admin-prohibited' },
  'icmp6-adm-prohibited': { v4: 'icmp-admin-prohibited', v6: 'icmp6-adm-prohibited', nft: 'icmpx admin-prohibited' },
  'tcp-reset': { v4: 'tcp-reset', v6: 'tcp-reset', nft: 'tcp reset' },
};

// fail2ban spellings: "DROP", "REJECT", "REJECT --reject-with tcp-reset", nft's "reject"/"drop".
export const parseBlocktype = (text: string): Blocktype | string => {
  const words = text.trim().split(/\s+/);
  const head = (words[0] ?? '').toLowerCase();
  if (head === 'drop' && words.length === 1) return { kind: 'drop' };
  if (head !== 'reject') return `expected DROP, REJECT or "REJECT --reject-with <reply>", got "${text}"`;
  if (words.length === 1) return { kind: 'reject', with: DEFAULT_REJECT };
  if (words.length === 3 && words[1] === '--reject-with') {
    const r = REPLIES[words[2] ?? ''];
    if (r) return { kind: 'reject', with: { v4: r.v4, v6: r.v6 } };
    return `unknown reject reply "${words[2]}" (known: ${Object.keys(REPLIES).join(', ')})`;
  }
  return `expected "REJECT --reject-with <reply>", got "${text}"`;
};

// The nft statement for a blocktype ("drop", "reject with icmpx port-unreachable", "reject with tcp reset").
export const nftVerdict = (b: Blocktype): string => {
  if (b.kind === 'drop') return 'drop';
  return `reject with ${REPLIES[b.with.v4]?.nft ?? 'icmpx port-unreachable'}`;
};

export const iptablesTarget = (b: Blocktype, family: 4 | 6): string[] =>
  b.kind === 'drop' ? ['-j', 'DROP'] : ['-j', 'REJECT', '--reject-with', family === 4 ? b.with.v4 : b.with.v6];
