import type { Clock } from '../../core/clock.js';
import { diag, fail, ok, type Result } from '../../core/diagnostics.js';
import type { ActionBackend } from '../types.js';
import type { ActionSpec } from './spec.js';
import { execaRunner, type Runner } from './runner.js';
import { HostsDenyBackend } from './hostsdeny/apply.js';
import { NftablesBackend } from './nftables/apply.js';
import { IptablesBackend } from './iptables/apply.js';
import { IpsetBackend } from './ipset/apply.js';
import { RouteBackend } from './route/apply.js';
import { CommandBackend } from './command/apply.js';
import type { CommandAction } from './command/load.js';
import { WebhookBackend } from './webhook/apply.js';

// What backends need from the daemon: how to run commands (a namespace prefix in tests), the one clock
// (kernel-side timeouts are computed from it), and the loaded command actions.
export type BackendDeps = {
  runner?: Runner;
  clock: Clock;
  commandActions?: ReadonlyMap<string, CommandAction>; // from loadCommandActions('<config>/actions')
};

// One backend instance per jail and action. Errors here are configuration errors (the spec names something
// that does not exist), never runtime failures: those come back as ActionOutcome values from each verb.
export const createBackend = (spec: ActionSpec, deps: BackendDeps): Result<ActionBackend> => {
  const runner = deps.runner ?? execaRunner();
  switch (spec.backend) {
    case 'hostsdeny':
      return ok(new HostsDenyBackend(spec));
    case 'nftables':
      return ok(new NftablesBackend(spec, runner, deps.clock));
    case 'iptables':
      return ok(new IptablesBackend(spec, runner));
    case 'ipset':
      return ok(new IpsetBackend(spec, runner, deps.clock));
    case 'route':
      return ok(new RouteBackend(spec, runner));
    case 'command': {
      const a = deps.commandActions?.get(spec.action);
      if (!a)
        return fail([
          diag('', 0, `no command action "${spec.action}" (looked for actions/${spec.action}.yaml)`, 'action'),
        ]);
      const unknown = Object.keys(spec.params).filter((k) => !(k in a.params));
      if (unknown.length)
        return fail([
          diag(
            a.file,
            0,
            `unknown parameter(s) ${unknown.join(', ')} for action ${a.name}; it declares: ${Object.keys(a.params).join(', ') || 'none'}`,
            'action',
          ),
        ]);
      const ctx = {
        jail: spec.jail,
        port: spec.port,
        protocol: spec.protocol,
        params: { ...a.params, ...spec.params },
      };
      return ok(new CommandBackend(a, ctx, runner));
    }
    case 'webhook':
      return ok(new WebhookBackend(spec, deps.clock));
  }
};
