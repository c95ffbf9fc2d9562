#!/usr/bin/env node
// `npm start`: the quick start. The listener in -tcp and -udp on the bundled config/portsentry.conf (unprivileged
// trap ports, log only), in the foreground, logging to stdout as well as syslog; beside it sentryban on the bundled
// sentryban.yaml + jails/, whose `portsentry` jail follows the listener's history file and bans into a hosts.deny
// file. All state lives in one folder of its own: $SENTRYTOOLS_STATE, or ./state in the project.
import { mkdirSync, readFileSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main as portsentry } from '../dist/portsentry/main.js';
import { main as sentryban } from '../dist/sentryban/main.js';

const project = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const stateDir = resolve(process.env.SENTRYTOOLS_STATE || join(project, 'state'));
process.env.SENTRYTOOLS_STATE = stateDir;
const listenerDir = join(stateDir, 'portsentry');
const conf = join(listenerDir, 'portsentry.conf');
const ignore = join(listenerDir, 'portsentry.ignore');
try {
  mkdirSync(listenerDir, { recursive: true, mode: 0o700 });
  writeFileSync(
    conf,
    readFileSync(join(project, 'config', 'portsentry.conf'), 'utf8').replaceAll('/var/lib/sentrytools', listenerDir),
  );
  if (!existsSync(ignore)) copyFileSync(join(project, 'config', 'portsentry.ignore'), ignore);
} catch (e) {
  // One line and EX_CANTCREAT (73), never a stack trace: the folder is the one thing to fix.
  console.error(
    `sentrytools: cannot set up the state folder ${listenerDir} (${e.code ?? e.message}): ` +
      'set SENTRYTOOLS_STATE to a folder you can write, or fix the permissions of this one',
  );
  process.exit(73);
}

console.log(`sentrytools: state in ${stateDir}`);
console.log(
  'sentrytools: trip the listener with `nc -z localhost 31337` or `echo x | nc -u -w1 localhost 31337`' +
    ' (probes from this host are logged, never banned); see bans with `node bin/sentryban list`, decisions with `node bin/sentryban audit`',
);
const common = ['--config', conf, '--hosts-deny', join(listenerDir, 'hosts.deny'), '--foreground', '--stdout'];
const codes = await Promise.all([
  portsentry(['-tcp', ...common]),
  portsentry(['-udp', ...common]),
  sentryban(['daemon', '--foreground', '--config', project]),
]);
const failed = codes.find((c) => c !== 0 && c !== 2 && c !== 15);
process.exitCode = failed ?? 0;
