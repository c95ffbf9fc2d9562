import { appendFileSync } from 'node:fs';
import type { Addr } from '../core/addr.js';
import { substituteMacros } from '../core/argv-template.js';
import type { CommandTemplate, PortsentryConf } from './conf.js';
import type { DetectionMode } from './event.js';
import * as L from './lines.js';
import type { CommandRunner } from './run-command.js';

// 1.2's DisposeTCP / DisposeUDP: BLOCK_x 1 runs every configured action (KILL_RUN_CMD first or last), 2 runs
// KILL_RUN_CMD only, anything else logs "Ignoring ... response" and still counts as blocked.
export type Target = { addr: Addr; port: number; mode: DetectionMode; proto: 'tcp' | 'udp' };
export type RespondDeps = { conf: PortsentryConf; hostsDeny: string; run: CommandRunner; log: (line: string) => void };

const MAXBUF = 1024;

// 1.2's SubstString order and length limit, on the text that is logged (and written to hosts.deny).
const substituteText = (
  text: string,
  key: string,
  values: [string, string][],
  log: (l: string) => void,
): string | null => {
  let out = text;
  for (const [macro, value] of values) {
    if (!out.includes(macro)) continue;
    if (out.length + value.length + macro.length > MAXBUF) {
      log(L.macroParseError(macro, key));
      return null;
    }
    out = out.split(macro).join(value);
  }
  return out;
};

const macroValues = (t: Target, targetText: string): [string, string][] => [
  ['$TARGET$', targetText],
  ['$PORT$', String(t.port)],
  ['$MODE$', t.mode],
];

// Synchronous, as 1.2's fopen/fprintf/fclose before KILL_ROUTE: a thread-pool round trip would sit between the
// alert and the route command (a small append, no fsync).
const hostsDenyStep = (d: RespondDeps, t: Target, template: string): boolean => {
  if (!template.includes('$TARGET$')) {
    d.log(L.noTargetVariable('KILL_HOSTS_DENY'));
    return false;
  }
  // tcp_wrappers writes IPv6 addresses in brackets.
  const target = t.addr.family === 6 ? `[${t.addr.text}]` : t.addr.text;
  const line = substituteText(template, 'KILL_HOSTS_DENY', macroValues(t, target), d.log);
  if (line === null) return false;
  try {
    appendFileSync(d.hostsDeny, `${line}\n`);
  } catch {
    for (const l of L.cannotOpenHostsDeny(d.hostsDeny, t.addr.text)) d.log(l);
    return false;
  }
  d.log(L.blockedWrappers(t.addr.text, line));
  return true;
};

const commandStep = async (
  d: RespondDeps,
  t: Target,
  cmd: CommandTemplate,
  key: string,
  isRoute: boolean,
): Promise<boolean> => {
  if (isRoute && !cmd.text.includes('$TARGET$')) {
    d.log(L.noTargetVariable('KILL_ROUTE'));
    return false;
  }
  const values = macroValues(t, t.addr.text);
  const text = substituteText(cmd.text, key, values, d.log);
  if (text === null) return false;
  const argv = substituteMacros(cmd.argv, { TARGET: t.addr.text, PORT: String(t.port), MODE: t.mode });
  const outcome = await d.run(argv);
  if (outcome.kind !== 'ran') {
    const how = outcome.kind === 'exec-fail' ? 'exec' : 'system';
    d.log(isRoute ? L.blockFailed(how, t.addr.text) : L.runFailed(how, t.addr.text));
    return false;
  }
  d.log(isRoute ? L.blockedRoute(t.addr.text, text) : L.externalCommand(t.addr.text, text));
  return true;
};

const routeStep = (d: RespondDeps, t: Target): StepResult => {
  if (t.addr.family === 6) {
    if (d.conf.killRoute6) return commandStep(d, t, d.conf.killRoute6, 'KILL_ROUTE6', true);
    if (d.conf.killRoute) d.log(L.noRoute6(t.addr.text));
    return true;
  }
  return d.conf.killRoute ? commandStep(d, t, d.conf.killRoute, 'KILL_ROUTE', true) : true;
};

// A step that has nothing to wait for answers with a plain boolean, so the next step (the route command) starts
// in the same turn instead of after a promise hop.
type StepResult = boolean | Promise<boolean>;

const runCmdStep = (d: RespondDeps, t: Target): StepResult =>
  d.conf.killRunCmd ? commandStep(d, t, d.conf.killRunCmd, 'KILL_RUN_CMD', false) : true;

const hostsStep = (d: RespondDeps, t: Target): StepResult =>
  d.conf.killHostsDeny ? hostsDenyStep(d, t, d.conf.killHostsDeny) : true;

// Every step is attempted even after a failure; the host counts as blocked only if all succeeded.
export const dispose = async (d: RespondDeps, t: Target): Promise<boolean> => {
  const level = t.proto === 'tcp' ? d.conf.blockTcp : d.conf.blockUdp;
  if (level === 2) return runCmdStep(d, t);
  if (level !== 1) {
    d.log(L.ignoringResponse(t.proto === 'tcp' ? 'TCP' : 'UDP'));
    return true;
  }
  const steps = d.conf.killRunCmdFirst ? [runCmdStep, hostsStep, routeStep] : [hostsStep, routeStep, runCmdStep];
  let ok = true;
  for (const step of steps) {
    const r = step(d, t);
    if (!(typeof r === 'boolean' ? r : await r)) ok = false;
  }
  return ok;
};
