import type { ActionBackend, ActionOutcome, Ban } from '../../types.js';
import type { RouteSpec } from '../spec.js';
import { OK, runChecked, type Runner } from '../runner.js';
import { Serial } from '../../../core/serial.js';
import { planBanArgv, planUnbanArgv } from './plan.js';
import { listed, repairedOutcome } from '../repaired.js';
import { parseRoutes, planRouteRepair } from './check.js';

const FAMILIES = ['-4', '-6'] as const;

// route: blackhole/unreachable/prohibit routes for banned targets, tagged with our routing protocol number.
export class RouteBackend implements ActionBackend {
  readonly name: string;
  readonly #spec: RouteSpec;
  readonly #run: Runner;
  readonly #serial = new Serial();

  constructor(spec: RouteSpec, run: Runner) {
    this.#spec = spec;
    this.#run = run;
    this.name = `route:${spec.jail}`;
  }

  // Start and check are the same: list ours, add what is missing, delete strays (no moment without the routes).
  start(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.check(bans).then((o) => (o.ok ? OK : o));
  }

  check(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.#serial.run(async () => {
      const fixed: string[] = [];
      for (const fam of FAMILIES) {
        const list = await runChecked(this.#run, this.name, [
          'ip',
          fam,
          '-j',
          'route',
          'show',
          'proto',
          String(this.#spec.proto),
        ]);
        if (!list.outcome.ok) return list.outcome;
        let have: Map<string, string>;
        try {
          have = parseRoutes(list.result.stdout);
        } catch {
          have = new Map();
        }
        const wanted = [
          ...new Set(bans.filter((b) => (b.target.base.family === 4) === (fam === '-4')).map((b) => b.target.text)),
        ];
        const lines = planRouteRepair(have, wanted, this.#spec.type, this.#spec.proto);
        if (lines.length === 0) continue;
        const r = await runChecked(this.#run, this.name, ['ip', fam, '-force', '-batch', '-'], {
          input: `${lines.join('\n')}\n`,
        });
        if (!r.outcome.ok) return r.outcome;
        fixed.push(...lines);
      }
      const targets = (verb: string): string[] =>
        fixed.filter((l) => l.startsWith(`route ${verb} `)).map((l) => l.split(' ')[3] ?? '');
      return repairedOutcome([listed('restored', targets('replace')), listed('removed stray', targets('del'))]);
    });
  }

  ban(ban: Ban): Promise<ActionOutcome> {
    return this.#serial.run(
      async () =>
        (await runChecked(this.#run, this.name, planBanArgv(this.#spec.type, ban.target, this.#spec.proto))).outcome,
    );
  }

  // Deleting a route that is not there answers "No such process": already unbanned.
  unban(ban: Ban): Promise<ActionOutcome> {
    return this.#serial.run(async () => {
      const r = await runChecked(this.#run, this.name, planUnbanArgv(this.#spec.type, ban.target, this.#spec.proto));
      return r.result.exitCode === 2 && /No such process/.test(r.result.stderr) ? OK : r.outcome;
    });
  }
}
