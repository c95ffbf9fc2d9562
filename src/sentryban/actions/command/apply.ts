import type { ActionBackend, ActionOutcome, Ban } from '../../types.js';
import { OK, runChecked, type Runner } from '../runner.js';
import { Serial } from '../../../core/serial.js';
import type { CommandAction, Verb } from './load.js';
import { planCommands, type JailContext } from './plan.js';

// A user's command action: each verb runs its argv list in order, stopping at the first failure. check runs
// the check commands; when they fail, start is run again with the store's bans (the repair).
export class CommandBackend implements ActionBackend {
  readonly name: string;
  readonly #action: CommandAction;
  readonly #ctx: JailContext;
  readonly #run: Runner;
  readonly #serial = new Serial();

  constructor(action: CommandAction, ctx: JailContext, run: Runner) {
    this.#action = action;
    this.#ctx = ctx;
    this.#run = run;
    this.name = `command:${action.name}:${ctx.jail}`;
  }

  start(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.#serial.run(() => this.#start(bans));
  }
  ban(ban: Ban): Promise<ActionOutcome> {
    return this.#serial.run(() => this.#verb('ban', ban));
  }
  unban(ban: Ban): Promise<ActionOutcome> {
    return this.#serial.run(() => this.#verb('unban', ban));
  }

  check(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.#serial.run(async () => {
      if (this.#action.commands.check.length === 0) return OK;
      const c = await this.#verb('check');
      if (c.ok) return OK;
      const s = await this.#start(bans);
      return s.ok
        ? {
            ok: true,
            repaired: `check failed (${c.failure.argv.join(' ')}: exit ${String(c.failure.exitCode)}); start re-run with ${bans.length} ban(s)`,
          }
        : s;
    });
  }

  async #start(bans: readonly Ban[]): Promise<ActionOutcome> {
    const s = await this.#verb('start');
    if (!s.ok) return s;
    for (const b of bans) {
      const o = await this.#verb('ban', b);
      if (!o.ok) return o;
    }
    return OK;
  }

  async #verb(verb: Verb, ban?: Ban): Promise<ActionOutcome> {
    for (const argv of planCommands(this.#action, verb, this.#ctx, ban)) {
      const r = await runChecked(this.#run, this.name, argv, { timeoutMs: this.#action.timeoutMs });
      if (!r.outcome.ok) return r.outcome;
    }
    return OK;
  }
}
