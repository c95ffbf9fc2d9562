import { join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { fail, ok, type Diagnostic, type Result } from '../../core/diagnostics.js';
import { createBackend, loadCommandActions, type CommandAction } from '../actions/index.js';
import type { DaemonConfig } from '../config/loaded.js';
import type { ActionBackend } from '../types.js';

// One backend instance per jail and action, with the command actions of `<config>/actions/*.yaml` loaded, so a
// jail can name one (`backend: command, action: <name>`). Any error here refuses the configuration.
// The command actions alone (empty when they do not load: buildBackends has refused that config already).
export const commandActionsOf = async (cfg: DaemonConfig): Promise<Map<string, CommandAction>> => {
  const r = await loadCommandActions(join(cfg.dir, 'actions'));
  return r.ok ? r.value : new Map();
};

export const buildBackends = async (cfg: DaemonConfig, clock: Clock): Promise<Result<Map<string, ActionBackend[]>>> => {
  const commands = await loadCommandActions(join(cfg.dir, 'actions'));
  if (!commands.ok) return commands;
  const errors: Diagnostic[] = [];
  const out = new Map<string, ActionBackend[]>();
  for (const j of cfg.jails) {
    const list: ActionBackend[] = [];
    for (const spec of j.actions) {
      const r = createBackend(spec, { clock, commandActions: commands.value });
      if (r.ok) list.push(r.value);
      else errors.push(...r.errors);
    }
    out.set(j.spec.config.name, list);
  }
  return errors.length ? fail(errors) : ok(out);
};
