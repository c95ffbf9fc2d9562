import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAddr } from '../../../src/core/addr.js';
import { ManualClock } from '../../../src/core/clock.js';
import { formatDiagnostic } from '../../../src/core/diagnostics.js';
import { Fields } from '../../../src/sentryban/config/fields.js';
import { readJail } from '../../../src/sentryban/config/jail-file.js';
import { parseYamlTree } from '../../../src/sentryban/config/yaml-tree.js';
import { compileJailFilter } from '../../../src/sentryban/config/load.js';
import { newLineMatcher } from '../../../src/sentryban/daemon/line-matcher.js';
import { Expiry } from '../../../src/sentryban/expire.js';
import { createJailState, step } from '../../../src/sentryban/jails/jail.js';
import type { Ban, Decision } from '../../../src/sentryban/types.js';

// Replays a jail case (jail.yaml + input.log) on the lines' own timestamps with a ManualClock and the real
// expiry timer, and returns the decisions in the compact form of expected.json.
export type Row = Record<string, string | number>;

export const replayCase = (dir: string): Row[] => {
  const file = join(dir, 'jail.yaml');
  const tree = parseYamlTree(readFileSync(file, 'utf8'), file);
  if (!tree.ok) throw new Error(tree.errors.map(formatDiagnostic).join('\n'));
  if (tree.value?.kind !== 'map') throw new Error(`${file}: expected a mapping of jails`);
  const entry = tree.value.entries[0];
  if (!entry) throw new Error(`${file}: no jail`);
  const f = new Fields();
  const spec = readJail(f, entry.key, entry.value, entry.key, new Map());
  if (f.errors.length) throw new Error(f.errors.map(formatDiagnostic).join('\n'));
  const filter = compileJailFilter(spec, dir);
  if (!filter.ok) throw new Error(filter.errors.map(formatDiagnostic).join('\n'));
  const cfg = spec.config;
  const state = createJailState();
  const rows: Row[] = [];
  const clock = new ManualClock(0);
  const matcher = newLineMatcher(filter.value, () => (clock.now() === 0 ? Date.now() : clock.now()));
  const at = (): string => new Date(clock.now()).toISOString();
  const env = () => ({ now: clock.now(), random: () => 0.5 });
  const bans = new Map<string, Ban>();
  const record = (ds: Decision[]): void => {
    for (const d of ds) {
      rows.push(compact(d, at()));
      if (d.kind === 'ban') {
        bans.set(d.ban.target.text, d.ban);
        expiry.set(d.ban.target.text, d.ban.expiresAt);
      }
    }
  };
  const expiry = new Expiry(clock, (keys) => {
    for (const k of keys) {
      const ban = bans.get(k);
      if (!ban) continue;
      bans.delete(k);
      step(cfg, state, { kind: 'lifted', target: k }, env());
      rows.push(compact({ kind: 'unban', jail: cfg.name, ban, reason: 'expired' }, at()));
    }
  });
  for (const text of readFileSync(join(dir, 'input.log'), 'utf8').split('\n')) {
    const self = /^#\s*self\s+(.*)$/.exec(text);
    if (self) {
      step(
        cfg,
        state,
        {
          kind: 'self',
          addrs: (self[1] ?? '')
            .split(/\s+/)
            .map((a) => parseAddr(a))
            .filter((a) => a !== null),
        },
        env(),
      );
      continue;
    }
    if (text.trim() === '' || text.startsWith('#')) continue;
    for (const failure of matcher.match({ text, source: 'input.log' })) {
      if (clock.now() === 0) clock.set(failure.time);
      if (failure.time > clock.now()) clock.set(failure.time);
      record(step(cfg, state, { kind: 'failure', failure }, env()));
    }
  }
  return rows;
};

const compact = (d: Decision, at: string): Row => {
  switch (d.kind) {
    case 'found':
      return { at, kind: 'found', id: d.failure.id, count: d.count };
    case 'ignored':
      return { at, kind: 'ignored', id: d.failure.id, rule: d.rule };
    case 'ban':
      return {
        at,
        kind: 'ban',
        target: d.ban.target.text,
        bantime: d.ban.bantimeSec,
        banCount: d.ban.banCount,
        until: d.ban.expiresAt === null ? 'permanent' : new Date(d.ban.expiresAt).toISOString(),
        reason: d.reason,
      };
    case 'unban':
      return { at, kind: 'unban', target: d.ban.target.text, reason: d.reason };
  }
};
