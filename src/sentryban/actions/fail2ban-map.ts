import { diag, fail, type Result } from '../../core/diagnostics.js';
import type { ActionSpec } from './spec.js';
import { specFromOptions, type Where } from './options.js';

// fail2ban's stock ban actions (action.d/<name>.conf, with [param=value] arguments from jail.conf) mapped to our
// backends. Port/protocol/blocktype/chain keep their meaning; parameters that only shape fail2ban's shell
// commands (lockingopt, returntype, actname, ipsettime ...) are ignored, because our backends do that work.
type Mapping = { backend: string; type?: 'oneport' | 'multiport' | 'allports'; passes: readonly string[] };

const FIREWALL = ['port', 'protocol', 'blocktype', 'chain', 'name'];
const STOCK: Readonly<Record<string, Mapping>> = {
  iptables: { backend: 'iptables', type: 'oneport', passes: FIREWALL },
  'iptables-multiport': { backend: 'iptables', type: 'multiport', passes: FIREWALL },
  'iptables-allports': { backend: 'iptables', type: 'allports', passes: FIREWALL },
  'iptables-new': { backend: 'iptables', type: 'oneport', passes: FIREWALL },
  'iptables-multiport-log': { backend: 'iptables', type: 'multiport', passes: FIREWALL },
  'iptables-ipset': { backend: 'ipset', type: 'oneport', passes: FIREWALL },
  'iptables-ipset-proto4': { backend: 'ipset', type: 'multiport', passes: FIREWALL },
  'iptables-ipset-proto6': { backend: 'ipset', type: 'multiport', passes: FIREWALL },
  'iptables-ipset-proto6-allports': { backend: 'ipset', type: 'allports', passes: FIREWALL },
  'iptables-ipset-allports': { backend: 'ipset', type: 'allports', passes: FIREWALL },
  nftables: { backend: 'nftables', type: 'multiport', passes: ['port', 'protocol', 'blocktype'] },
  'nftables-multiport': { backend: 'nftables', type: 'multiport', passes: ['port', 'protocol', 'blocktype'] },
  'nftables-allports': { backend: 'nftables', type: 'allports', passes: ['port', 'protocol', 'blocktype'] },
  hostsdeny: { backend: 'hostsdeny', passes: ['file', 'daemon_list'] },
  route: { backend: 'route', passes: ['blocktype'] },
};

export const STOCK_ACTION_NAMES: readonly string[] = Object.keys(STOCK);

// e.g. mapFail2banAction('iptables-multiport', {port: 'ssh', blocktype: 'DROP'}, {jail: 'sshd'}).
// `commandActions`: names of loaded actions/*.yaml; a fail2ban action of that name maps to the command backend.
export const mapFail2banAction = (
  name: string,
  params: Readonly<Record<string, string>>,
  ctx: { jail: string; where?: Where; commandActions?: ReadonlySet<string> },
): Result<ActionSpec> => {
  const where = ctx.where ?? { file: '', line: 0, path: 'banaction' };
  const base = name.replace(/\.conf$/, '');
  if (ctx.commandActions?.has(base)) return specFromOptions('command', ctx.jail, { ...params, action: base }, where);
  const m = STOCK[base];
  if (!m) {
    return fail([
      diag(
        where.file,
        where.line,
        `fail2ban action "${name}" has no sentryban backend (mapped: ${STOCK_ACTION_NAMES.join(', ')}); write actions/${base}.yaml as a command action`,
        where.path,
      ),
    ]);
  }
  const type = params.type ?? m.type;
  const opts: Record<string, string> = {};
  for (const k of m.passes) {
    const v = params[k];
    if (v !== undefined) opts[k] = v;
  }
  if (m.backend === 'iptables' || m.backend === 'ipset' || m.backend === 'nftables') {
    if (type === 'allports') opts.port = '0:65535';
    else opts.port = params.port ?? 'ssh';
    if (params.name !== undefined && m.backend !== 'nftables') opts.name = `sb-${params.name}`;
    if (m.backend === 'nftables' && params.blocktype !== undefined) opts.blocktype = params.blocktype;
  }
  return specFromOptions(m.backend, ctx.jail, opts, where);
};
