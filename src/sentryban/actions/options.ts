import { closest, diag, fail, ok, type Diagnostic, type Result } from '../../core/diagnostics.js';
import { parseDurationSec } from '../../core/duration.js';
import { parseBlocktype } from './blocktype.js';
import {
  BACKEND_KINDS,
  isSafeName,
  parsePorts,
  parseProtocols,
  type ActionSpec,
  type BackendKind,
  type Blocktype,
  type PortMatch,
  type RouteType,
} from './spec.js';

// Build a validated ActionSpec from the users' words (fail2ban's option names: port, protocol, blocktype, chain,
// name, file, daemon_list ...). Unknown options are errors with a "did you mean".
export type Where = { file: string; line: number; path: string };
export type Options = Readonly<Record<string, string>>;

export const ACTION_OPTION_KEYS: Readonly<Record<BackendKind, readonly string[]>> = {
  hostsdeny: ['file', 'daemon_list'],
  nftables: ['table', 'chain_priority', 'port', 'protocol', 'blocktype'],
  iptables: ['name', 'chain', 'port', 'protocol', 'blocktype'],
  ipset: ['name', 'chain', 'port', 'protocol', 'blocktype', 'maxelem'],
  route: ['blocktype', 'proto'],
  command: ['action'],
  webhook: ['url', 'timeout', 'authorization'],
};

export const DEFAULT_HOSTS_DENY = '/etc/hosts.deny';
export const DEFAULT_ROUTE_PROTO = 251;

export const specFromOptions = (
  backend: string,
  jail: string,
  options: Options,
  where: Where = { file: '', line: 0, path: 'action' },
): Result<ActionSpec> => {
  const errors: Diagnostic[] = [];
  const err = (key: string, message: string): void => {
    errors.push(diag(where.file, where.line, message, key ? `${where.path}.${key}` : where.path));
  };
  if (!(BACKEND_KINDS as readonly string[]).includes(backend)) {
    const hint = closest(backend, BACKEND_KINDS);
    err(
      '',
      `unknown action backend "${backend}"${hint ? ` (did you mean "${hint}"?)` : ''}; known: ${BACKEND_KINDS.join(', ')}`,
    );
    return fail(errors);
  }
  const kind = backend as BackendKind;
  if (!isSafeName(jail, 64)) err('', `jail name "${jail}" cannot name a firewall object (letters, digits, _ . - only)`);
  if (kind !== 'command') {
    for (const key of Object.keys(options)) {
      if (ACTION_OPTION_KEYS[kind].includes(key)) continue;
      const hint = closest(key, ACTION_OPTION_KEYS[kind]);
      err(
        key,
        `unknown option for ${kind}${hint ? ` (did you mean "${hint}"?)` : ''}; known: ${ACTION_OPTION_KEYS[kind].join(', ')}`,
      );
    }
  }
  const spec = buildSpec(kind, jail, options, err);
  return errors.length > 0 || !spec ? fail(errors) : ok(spec);
};

type Err = (key: string, message: string) => void;

const buildSpec = (kind: BackendKind, jail: string, o: Options, err: Err): ActionSpec | null => {
  switch (kind) {
    case 'hostsdeny': {
      const daemonList = o.daemon_list ?? 'ALL';
      if (!/^[^\n:#]+$/.test(daemonList))
        err('daemon_list', `expected a daemon list such as "ALL" or "sshd", got "${daemonList}"`);
      return { backend: kind, jail, file: o.file ?? DEFAULT_HOSTS_DENY, daemonList: daemonList.trim() };
    }
    case 'nftables': {
      const table = o.table ?? `sentryban-${jail}`;
      if (!isSafeName(table, 64)) err('table', `"${table}" is not a usable nft table name`);
      const priority = Number(o.chain_priority ?? '-1');
      if (!Number.isInteger(priority)) err('chain_priority', `expected an integer, got "${o.chain_priority}"`);
      return { backend: kind, jail, table, priority, match: portMatch(o, err), blocktype: blocktype(o, err, 'reject') };
    }
    case 'iptables': {
      const chain = o.name ?? `sb-${jail}`;
      if (!isSafeName(chain, 28)) err('name', `"${chain}" is not a usable iptables chain name (at most 28 characters)`);
      return {
        backend: kind,
        jail,
        chain,
        hooks: hooks(o, err),
        match: portMatch(o, err),
        blocktype: blocktype(o, err, 'REJECT'),
      };
    }
    case 'ipset': {
      const set = o.name ?? `sb-${jail}`;
      if (!isSafeName(set, 24)) err('name', `"${set}" is not a usable ipset name (at most 24 characters)`);
      const maxelem = Number(o.maxelem ?? String(1 << 21));
      if (!Number.isInteger(maxelem) || maxelem < 1) err('maxelem', `expected a positive integer, got "${o.maxelem}"`);
      return {
        backend: kind,
        jail,
        set,
        hooks: hooks(o, err),
        match: portMatch(o, err),
        blocktype: blocktype(o, err, 'REJECT'),
        maxelem,
      };
    }
    case 'route': {
      const type = (o.blocktype ?? 'unreachable').toLowerCase();
      if (!['blackhole', 'unreachable', 'prohibit'].includes(type))
        err('blocktype', `expected blackhole, unreachable or prohibit, got "${o.blocktype}"`);
      const proto = Number(o.proto ?? DEFAULT_ROUTE_PROTO);
      if (!Number.isInteger(proto) || proto < 5 || proto > 255)
        err('proto', `expected a routing protocol number 5..255, got "${o.proto}"`);
      return { backend: kind, jail, type: type as RouteType, proto };
    }
    case 'command': {
      const action = o.action ?? '';
      if (!isSafeName(action, 64))
        err('action', `expected the name of a command action (actions/<name>.yaml), got "${action}"`);
      const { action: _a, port, protocol, ...params } = o;
      return { backend: kind, jail, action, port: port ?? '', protocol: protocol ?? 'tcp', params };
    }
    case 'webhook':
      return webhook(jail, o, err);
  }
};

export const DEFAULT_WEBHOOK_TIMEOUT_SEC = 10;

const webhook = (jail: string, o: Options, err: Err): ActionSpec | null => {
  let url: URL | null = null;
  try {
    url = new URL(o.url ?? '');
  } catch {
    err('url', `expected an http:// or https:// URL, got "${o.url ?? ''}"`);
  }
  if (url && url.protocol !== 'http:' && url.protocol !== 'https:') {
    err('url', `expected an http:// or https:// URL, got "${url.protocol}" in "${o.url ?? ''}"`);
    url = null;
  }
  const sec = parseDurationSec(o.timeout ?? DEFAULT_WEBHOOK_TIMEOUT_SEC);
  if (sec === null || sec <= 0 || sec > 300)
    err('timeout', `expected a duration between 1s and 5m, such as "10s", got "${o.timeout}"`);
  const auth = o.authorization ?? null;
  if (auth !== null && (auth.length === 0 || /[\r\n\0]/.test(auth)))
    err('authorization', 'expected a header value on one line, such as "Bearer <token>"');
  return url
    ? { backend: 'webhook', jail, url, timeoutMs: (sec ?? DEFAULT_WEBHOOK_TIMEOUT_SEC) * 1000, authorization: auth }
    : null;
};

const portMatch = (o: Options, err: Err): PortMatch => {
  const ports = parsePorts(o.port ?? '0:65535');
  if (!ports) err('port', `expected ports such as "ssh", "22,80" or "1000:2000", got "${o.port}"`);
  const protocols = parseProtocols(o.protocol ?? 'tcp');
  if (!protocols) err('protocol', `expected tcp, udp, sctp (comma list) or all, got "${o.protocol}"`);
  if (ports && ports !== 'all' && protocols === 'all')
    err('port', 'listed ports need a protocol (tcp, udp or sctp), not "all"');
  return { ports: ports ?? 'all', protocols: protocols ?? 'all' };
};

const blocktype = (o: Options, err: Err, dflt: string): Blocktype => {
  const b = parseBlocktype(o.blocktype ?? dflt);
  if (typeof b === 'string') {
    err('blocktype', b);
    return { kind: 'drop' };
  }
  const protocols = parseProtocols(o.protocol ?? 'tcp');
  const tcpOnly = protocols !== null && protocols !== 'all' && protocols.length === 1 && protocols[0] === 'tcp';
  if (b.kind === 'reject' && b.with.v4 === 'tcp-reset' && !tcpOnly)
    err('blocktype', 'a tcp-reset reply needs protocol = tcp');
  return b;
};

const hooks = (o: Options, err: Err): string[] => {
  const list = (o.chain ?? 'INPUT')
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
  if (list.length === 0 || list.some((c) => !isSafeName(c, 28)))
    err('chain', `expected chain names such as "INPUT" or "INPUT,FORWARD", got "${o.chain}"`);
  return list;
};
