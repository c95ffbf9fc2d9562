import { isAbsolute, resolve } from 'node:path';
import { expandEnv } from './env.js';
import type { Fields } from './fields.js';
import { FAULTS_KEYS, readLogTargets, type LogTargets } from './log-target.js';
import type { Pos, YNode } from './yaml-tree.js';
import { readDns, type DnsConfig } from './dns-settings.js';
import { readMetricsKey } from './metrics-setting.js';
import type { MetricsAddress } from '../../core/metrics-address.js';
import { readFleet, type FleetConfig } from './fleet-settings.js';

// sentryban.yaml: where state lives, where decisions are logged, named actions, defaults for every jail.
export type NamedAction = { name: string; backend: string; options: Record<string, string>; pos: Pos };
export type MainConfig = {
  stateDir: string;
  socket: string;
  metrics: MetricsAddress | null; // the Prometheus endpoint (docs/metrics.md); null: off
  logfile: string | null; // fail2ban-format log lines; null: none
  log: LogTargets; // every place log lines go (logfile is one of log.files)
  checkIntervalSec: number; // periodic check of every action against the store; 0: never
  dbfile: string;
  actions: Map<string, NamedAction>;
  defaults: Map<string, YNode>;
  selfRefreshSec: number;
  purgeAgeSec: number;
  dns: DnsConfig;
  fleet: FleetConfig | null; // shared bans through Redis (fleet-settings.ts); null: none
};

export const MAIN_KEYS = [
  'state',
  'socket',
  'metrics',
  'logfile',
  'dbfile',
  'dbpurgeage',
  'actions',
  'defaults',
  'ignoreself_refresh',
  'dns',
  'fleet',
] as const;

// Default state folder: /var/lib/sentryban as root, else a folder of its own inside the config folder
// (for the bundled config: the project's state/ folder).
export const defaultStateDir = (configDir: string): string =>
  process.getuid?.() === 0 ? '/var/lib/sentryban' : resolve(configDir, 'state', 'sentryban');

export const readMain = (f: Fields, node: YNode | null, configDir: string, jailKeys: readonly string[]): MainConfig => {
  const m = node ? f.map(node, '', [...MAIN_KEYS, ...FAULTS_KEYS]) : new Map<string, YNode>();
  const rel = (base: string, p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  const stateNode = m.get('state');
  const stateDir = stateNode
    ? rel(
        configDir,
        expandEnv(f.string(stateNode, 'state', ''), (msg) => f.error(stateNode.pos, 'state', msg)),
      )
    : defaultStateDir(configDir);
  const logNode = m.get('logfile');
  const logText = logNode ? f.string(logNode, 'logfile', '') : 'sentryban.log';
  const actions = new Map<string, NamedAction>();
  const actNode = m.get('actions');
  if (actNode?.kind === 'map') {
    for (const e of actNode.entries) {
      const opts = f.map(e.value, `actions.${e.key}`, []);
      const backend = opts.get('backend');
      const options: Record<string, string> = {};
      for (const [k, v] of opts) {
        if (k === 'backend') continue;
        const t = f.scalar(v, `actions.${e.key}.${k}`);
        if (t !== null) options[k] = k === 'file' ? rel(stateDir, t) : t;
      }
      actions.set(e.key, {
        name: e.key,
        backend: backend ? f.string(backend, `actions.${e.key}.backend`, e.key) : e.key,
        options,
        pos: e.keyPos,
      });
    }
  } else if (actNode) f.error(actNode.pos, 'actions', 'expected a mapping of action name -> {backend, options}');
  const defNode = m.get('defaults');
  const defaults = defNode ? f.map(defNode, 'defaults', jailKeys) : new Map<string, YNode>();
  const logfile = logText === '' || logText === 'none' ? null : rel(stateDir, logText);
  return {
    stateDir,
    socket: rel(stateDir, f.string(m.get('socket'), 'socket', 'sentryban.sock')),
    metrics: readMetricsKey(f, m.get('metrics')),
    logfile,
    log: readLogTargets(f, m, stateDir, logfile),
    checkIntervalSec: f.duration(m.get('checkinterval'), 'checkinterval', 300),
    dbfile: rel(stateDir, f.string(m.get('dbfile'), 'dbfile', 'sentryban.sqlite3')),
    actions,
    defaults,
    selfRefreshSec: f.duration(m.get('ignoreself_refresh'), 'ignoreself_refresh', 60),
    purgeAgeSec: f.duration(m.get('dbpurgeage'), 'dbpurgeage', 86400),
    dns: readDns(f, m.get('dns')),
    fleet: readFleet(f, m.get('fleet'), configDir),
  };
};
