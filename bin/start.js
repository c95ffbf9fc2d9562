#!/usr/bin/env node
// `npm start`: the listener in -tcp and -udp on the bundled config, in the foreground, logging to stdout as well
// as syslog. State lives in /var/lib/sentrytools as root, else in $XDG_STATE_HOME/sentrytools.
import { mkdirSync, readFileSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main as portsentry } from '../dist/portsentry/main.js';

const here = dirname(fileURLToPath(import.meta.url));
const bundled = join(here, '..', 'config');
const isRoot = process.getuid?.() === 0;
const stateDir = isRoot ? '/var/lib/sentrytools'
  : join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'sentrytools');
mkdirSync(stateDir, { recursive: true, mode: 0o700 });

const conf = join(stateDir, 'portsentry.conf');
writeFileSync(conf, readFileSync(join(bundled, 'portsentry.conf'), 'utf8').replaceAll('/var/lib/sentrytools', stateDir));
const ignore = join(stateDir, 'portsentry.ignore');
if (!existsSync(ignore)) copyFileSync(join(bundled, 'portsentry.ignore'), ignore);

console.log(`sentrytools: state in ${stateDir}; trip it with e.g. \`nc -z localhost 31337\` or \`echo x | nc -u -w1 localhost 31337\``);
const common = ['--config', conf, '--hosts-deny', join(stateDir, 'hosts.deny'), '--foreground', '--stdout'];
const codes = await Promise.all([portsentry(['-tcp', ...common]), portsentry(['-udp', ...common])]);
const failed = codes.find((c) => c !== 0 && c !== 2 && c !== 15);
process.exitCode = failed ?? 0;
