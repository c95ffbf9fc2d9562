import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACTION_OPTION_KEYS } from '../../src/sentryban/actions/options.js';
import { BACKEND_KINDS } from '../../src/sentryban/actions/spec.js';
import { COMMAND_ACTION_KEYS } from '../../src/sentryban/actions/command/load.js';
import { DNS_KEYS } from '../../src/sentryban/config/dns-settings.js';
import { FAIL2BAN_JAIL_KEYS } from '../../src/sentryban/config/fail2ban-jails.js';
import { ESCALATE_KEYS, JAIL_KEYS } from '../../src/sentryban/config/jail-file.js';
import { FAULTS_KEYS } from '../../src/sentryban/config/log-target.js';
import { MAIN_KEYS } from '../../src/sentryban/config/main-file.js';
import { FILTER_KEYS } from '../../src/sentryban/filters/yaml-filter.js';
import { FLEET_KEYS } from '../../src/sentryban/config/fleet-settings.js';
import { METRICS_MODE_KEYS } from '../../src/portsentry/conf.js';

// docs/configuration.md has a row for every key the loaders accept, in the section of its file, and no row for
// a key they refuse (placeholder rows, marked PLACEHOLDER, excepted). The key lists are the loaders' own.
const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const doc = readFileSync(join(repo, 'docs/configuration.md'), 'utf8').split('\n');

// The lines under a heading, up to the next heading of the same or a higher level.
const section = (heading: string): string[] => {
  const start = doc.indexOf(heading);
  if (start < 0) throw new Error(`docs/configuration.md has no heading "${heading}"`);
  const level = /^#+/.exec(heading)?.[0].length ?? 0;
  const end = doc.findIndex((l, i) => i > start && /^#+ /.test(l) && (/^#+/.exec(l)?.[0].length ?? 9) <= level);
  return doc.slice(start + 1, end < 0 ? undefined : end);
};
// The keys of the table rows of a section: "| `key` | ...", except placeholder rows.
const rows = (lines: string[]): string[] =>
  lines.flatMap((l) => {
    const m = /^\| `([^`]+)` \|/.exec(l);
    return m && !l.includes('PLACEHOLDER') ? [m[1] as string] : [];
  });

const literalKeys = (file: string, re: RegExp): string[] => [
  ...new Set([...readFileSync(join(repo, file), 'utf8').matchAll(re)].map((m) => m[1] as string)),
];
// The portsentry.conf keys conf.ts reads: every get/num/ports/command('KEY') and retrieveToken(chunks, 'KEY').
const portsentryKeys = [
  ...literalKeys(
    'src/portsentry/conf.ts',
    /(?:\b(?:get|num|ports|command)\(|retrieveToken\(chunks, )'([A-Z][A-Z0-9_]*)'/g,
  ),
  ...METRICS_MODE_KEYS,
];

const cases: [string, readonly string[]][] = [
  [
    '## sentryban.yaml',
    [...MAIN_KEYS, ...FAULTS_KEYS, ...DNS_KEYS.map((k) => `dns.${k}`), ...FLEET_KEYS.map((k) => `fleet.${k}`)],
  ],
  ['## Jail keys (jails/*.yaml and `defaults:`)', [...JAIL_KEYS, ...ESCALATE_KEYS.map((k) => `escalate.${k}`)]],
  ['## fail2ban jail.conf keys (`--fail2ban-config DIR`)', FAIL2BAN_JAIL_KEYS],
  ...BACKEND_KINDS.map((k): [string, readonly string[]] => [`### \`${k}\``, ACTION_OPTION_KEYS[k]]),
  ['## Command actions (actions/*.yaml)', COMMAND_ACTION_KEYS],
  ['## Filter YAML (filters/*.yaml)', FILTER_KEYS],
  ['## portsentry.conf (the listener)', portsentryKeys],
];

describe('docs/configuration.md', () => {
  it.each(cases)('%s: a row for every key the loader accepts, none for a key it refuses', (heading, keys) => {
    const documented = rows(section(heading));
    expect(keys.filter((k) => !documented.includes(k))).toEqual([]);
    expect(documented.filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('the key lists are the loaders: every jail.conf key the import reads and every portsentry.conf key', () => {
    const read = literalKeys('src/sentryban/config/fail2ban-jails.ts', /\bget\('([a-z.]+)'\)/g);
    expect(read.length).toBeGreaterThan(4);
    expect(read.filter((k) => !FAIL2BAN_JAIL_KEYS.includes(k))).toEqual([]);
    // 1.2's eighteen keys and our four (KILL_ROUTE6, BLOCK_RATE_MAX, SYSLOG_REMOTE, METRICS), plus METRICS_<MODE>.
    expect(portsentryKeys.length).toBe(22 + METRICS_MODE_KEYS.length);
  });
});
