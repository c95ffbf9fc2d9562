// What a jail asks of an action, as plain validated data. The factory turns a spec into an ActionBackend.

export type Protocol = 'tcp' | 'udp' | 'sctp';
// Which traffic a firewall rule covers: listed ports (numbers, "a:b" ranges, service names) or every port.
export type PortMatch = { ports: readonly string[] | 'all'; protocols: readonly Protocol[] | 'all' };
export type RejectWith = { v4: string; v6: string };
export type Blocktype = { kind: 'drop' } | { kind: 'reject'; with: RejectWith };
export type RouteType = 'blackhole' | 'unreachable' | 'prohibit';

export type HostsDenySpec = { backend: 'hostsdeny'; jail: string; file: string; daemonList: string };
export type NftablesSpec = {
  backend: 'nftables';
  jail: string;
  table: string;
  priority: number;
  match: PortMatch;
  blocktype: Blocktype;
};
export type IptablesSpec = {
  backend: 'iptables';
  jail: string;
  chain: string;
  hooks: readonly string[];
  match: PortMatch;
  blocktype: Blocktype;
};
export type IpsetSpec = {
  backend: 'ipset';
  jail: string;
  set: string;
  hooks: readonly string[];
  match: PortMatch;
  blocktype: Blocktype;
  maxelem: number;
};
export type RouteSpec = { backend: 'route'; jail: string; type: RouteType; proto: number };
// port/protocol are the jail's (for $PORT$/$PROTOCOL$); params override the action's declared defaults.
export type CommandSpec = {
  backend: 'command';
  jail: string;
  action: string;
  port: string;
  protocol: string;
  params: Readonly<Record<string, string>>;
};

// An HTTP(S) endpoint told of every ban and unban (a JSON POST); `authorization` is sent as that header.
export type WebhookSpec = {
  backend: 'webhook';
  jail: string;
  url: URL;
  timeoutMs: number;
  authorization: string | null;
};

export type ActionSpec =
  HostsDenySpec | NftablesSpec | IptablesSpec | IpsetSpec | RouteSpec | CommandSpec | WebhookSpec;
export type BackendKind = ActionSpec['backend'];
export const BACKEND_KINDS: readonly BackendKind[] = [
  'hostsdeny',
  'nftables',
  'iptables',
  'ipset',
  'route',
  'command',
  'webhook',
];

export const DEFAULT_REJECT: RejectWith = { v4: 'icmp-port-unreachable', v6: 'icmp6-port-unreachable' };
export const ALL_PORTS: PortMatch = { ports: 'all', protocols: 'all' };

// A name we put into a firewall object name: letters, digits, '_', '-', '.'; nothing a tool could misread.
export const isSafeName = (s: string, max: number): boolean =>
  s.length > 0 && s.length <= max && /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(s);

const PORT_WORD = /^(\d{1,5}(:\d{1,5})?|[A-Za-z][A-Za-z0-9_-]{0,30})$/;

// fail2ban's `port`: "ssh", "22,80", "1000:2000", "0:65535" (= every port). Null when a part is not a port.
export const parsePorts = (text: string): readonly string[] | 'all' | null => {
  const parts = text.split(/[,\s]+/).filter((p) => p.length > 0);
  if (parts.length === 0) return null;
  for (const p of parts) {
    if (!PORT_WORD.test(p)) return null;
    const nums = p.split(':').map(Number);
    if (/^\d/.test(p) && nums.some((n) => n > 65535)) return null;
    if (nums.length === 2 && (nums[0] ?? 0) > (nums[1] ?? 0)) return null;
  }
  if (parts.length === 1 && (parts[0] === '0:65535' || parts[0] === '1:65535')) return 'all';
  return parts;
};

// fail2ban's `protocol`: "tcp", "tcp,udp", "all".
export const parseProtocols = (text: string): readonly Protocol[] | 'all' | null => {
  const parts = text
    .split(/[,\s]+/)
    .filter((p) => p.length > 0)
    .map((p) => p.toLowerCase());
  if (parts.length === 1 && parts[0] === 'all') return 'all';
  if (parts.length === 0 || parts.some((p) => p !== 'tcp' && p !== 'udp' && p !== 'sctp')) return null;
  return [...new Set(parts)] as Protocol[];
};

// Kernel-side timeout for a ban: whole seconds left (rounded up), null for a permanent ban, 0 when already over.
export const remainingSec = (expiresAt: number | null, now: number): number | null =>
  expiresAt === null ? null : Math.max(0, Math.ceil((expiresAt - now) / 1000));
