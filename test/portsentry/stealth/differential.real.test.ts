import { describe, expect } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, type Lab } from '../../helpers/netns.js';
import { itReal } from '../../helpers/real.js';
import { withSystemFiles } from '../../helpers/system-file.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { Collector } from '../side.js';
import { startOurs, startReal, writeConf, type Daemon } from './lab-daemon.js';
import { hping, send, type Probe } from './probe.js';

// The same config and the same probes against /usr/sbin/portsentry (1.2) and ours, each in a fresh lab:
// syslog datagrams (priority and message bytes, from a private /dev/log), history and blocked lines without
// their time fields, hosts.deny lines and the routes KILL_ROUTE left must all be equal. Every probe comes from
// its own source address (hping3 -a), one at a time, so the outcome does not depend on timing.
const real = itReal({ root: true, commands: ['ip', 'hping3', '/usr/sbin/portsentry', 'route'] });
const CONF = '/etc/portsentry/portsentry.conf';
const HOSTS_DENY = '/etc/hosts.deny';

type Step = { probe: Probe; from: number };
const src = (n: number): string => `192.0.2.${n}`;

const PLANS: Record<string, { keys: Record<string, string>; steps: Step[] }> = {
  stcp: {
    keys: {},
    steps: [
      { probe: hping('-S', '-p', '1'), from: 10 },
      { probe: hping('-F', '-p', '11'), from: 11 },
      { probe: hping('-p', '15'), from: 12 },
      { probe: hping('-F', '-P', '-U', '-p', '79'), from: 13 },
      { probe: hping('-S', '-F', '-p', '111'), from: 14 },
      { probe: hping('-U', '-p', '119'), from: 15 },
      { probe: hping('-S', '-G', '-p', '143'), from: 16 },
      { probe: hping('-A', '-p', '540'), from: 17 },
      { probe: hping('-R', '-p', '540'), from: 17 },
      { probe: hping('-S', '-p', '80'), from: 18 },
      { probe: hping('-S', '-p', '635'), from: 50 },
      { probe: hping('-S', '-p', '1080'), from: 10 },
    ],
  },
  atcp: {
    keys: { ADVANCED_PORTS_TCP: '1024' },
    steps: [
      { probe: hping('-S', '-p', '21'), from: 10 },
      { probe: hping('-F', '-p', '22'), from: 11 },
      { probe: hping('-p', '23'), from: 12 },
      { probe: hping('-F', '-P', '-U', '-p', '25'), from: 13 },
      { probe: hping('-S', '-p', '113'), from: 14 },
      { probe: hping('-S', '-p', '139'), from: 14 },
      { probe: hping('-S', '-p', '1024'), from: 15 },
      { probe: hping('-A', '-p', '80'), from: 16 },
      { probe: hping('-S', '-G', '-p', '443'), from: 17 },
      { probe: hping('-S', '-p', '1'), from: 10 },
    ],
  },
  sudp: {
    keys: {},
    steps: [
      { probe: hping('-2', '-p', '7'), from: 10 },
      { probe: hping('-2', '-G', '-p', '9'), from: 11 },
      { probe: hping('-2', '-p', '53'), from: 12 },
      { probe: hping('-2', '-p', '69'), from: 50 },
      { probe: hping('-2', '-p', '161'), from: 10 },
    ],
  },
  audp: {
    keys: { ADVANCED_PORTS_UDP: '1024' },
    steps: [
      { probe: hping('-2', '-p', '53'), from: 10 },
      { probe: hping('-2', '-p', '137'), from: 11 },
      { probe: hping('-2', '-p', '1024'), from: 12 },
      { probe: hping('-2', '-G', '-p', '7'), from: 13 },
      { probe: hping('-2', '-p', '123'), from: 10 },
    ],
  },
};

type Outcome = { syslog: string[]; blocked: string[]; history: string[]; hostsDeny: string[]; routes: string[] };

const lines = (file: string): string[] =>
  existsSync(file) ? readFileSync(file, 'latin1').split('\n').filter(Boolean) : [];
const untimed = (l: string): string => l.replace(/^\d+ - \d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d /, '');

const runSide = async (side: 'real' | 'ours', mode: string): Promise<Outcome> => {
  const plan = PLANS[mode] as (typeof PLANS)[string];
  const tmp = makeTmpDir(`stealth-diff-${side}-`);
  let lab: Lab | null = null;
  let d: Daemon | null = null;
  // Each side's syslog goes to its own private /dev/log: exact datagrams, no dependence on the machine's syslog.
  const log = new Collector(join(tmp.dir, 'log.sock'));
  try {
    lab = await createLab();
    await lab.addAttackerAddrs([...new Set(plan.steps.map((s) => src(s.from)))]);
    const conf = side === 'real' ? CONF : join(tmp.dir, 'portsentry.conf');
    writeConf(conf, tmp.dir, {
      BLOCK_TCP: '1',
      BLOCK_UDP: '1',
      KILL_ROUTE: '/sbin/route add -host $TARGET$ reject',
      KILL_HOSTS_DENY: 'ALL: $TARGET$ : DENY',
      KILL_RUN_CMD: '/bin/echo $TARGET$ $PORT$ $MODE$',
      ...plan.keys,
    });
    readFileSync(join(tmp.dir, 'portsentry.ignore'));
    await import('node:fs').then((fs) => fs.appendFileSync(join(tmp.dir, 'portsentry.ignore'), `${src(50)}\n`));
    const hostsDeny = side === 'real' ? HOSTS_DENY : join(tmp.dir, 'hosts.deny');
    const denyBefore = lines(hostsDeny).length;
    d =
      side === 'real'
        ? await startReal(lab, lab.victim, mode, log.path)
        : await startOurs(lab, lab.victim, mode, conf, hostsDeny, log.path);
    await waitFor(() => log.datagrams.some((l) => l.message.startsWith('adminalert: PortSentry is now active')), {
      timeoutMs: 15000,
      what: `${side} -${mode} active`,
    });
    await log.settle(400, 5000);
    for (const step of plan.steps) {
      await send(lab, { ...step.probe, args: [...step.probe.args, '-a', src(step.from)] });
      await log.settle(400, 5000);
    }
    await d.stop();
    d = null;
    await log.settle(300, 3000);
    const routes = String((await lab.run(lab.victim, ['ip', 'route', 'show'])).stdout)
      .split('\n')
      .filter((r) => r.includes('unreachable'));
    return {
      syslog: log.datagrams.map((e) => `<${e.pri}> ${e.message}`),
      blocked: lines(join(tmp.dir, `portsentry.blocked.${mode}`)).map(untimed),
      history: lines(join(tmp.dir, 'portsentry.history')).map(untimed),
      hostsDeny: lines(hostsDeny).slice(denyBefore),
      routes,
    };
  } finally {
    if (d) await d.stop();
    log.close();
    await lab?.destroy();
    tmp.cleanup();
  }
};

// Deliberate differences (docs/portsentry-stealth.md): none of them show with these probes, so nothing is
// normalised away here.
describe('differential: PortSentry 1.2 vs ours, IPv4, every raw mode', () => {
  for (const mode of Object.keys(PLANS)) {
    real(
      `-${mode}: same syslog messages, history, blocked file, hosts.deny lines and routes`,
      async () => {
        const [theirs, ours] = await withSystemFiles([CONF, HOSTS_DENY], async () => [
          await runSide('real', mode),
          await runSide('ours', mode),
        ]);
        // The capture must have seen something, or equality would prove nothing (what it saw is printed if not).
        if (!theirs.syslog.some((l) => /^<\d+> attackalert:/.test(l)))
          process.stderr.write(`1.2 -${mode} saw nothing: ${JSON.stringify(theirs)}\n`);
        expect(theirs.syslog.some((l) => /^<\d+> attackalert:/.test(l))).toBe(true);
        expect(theirs.blocked.length).toBeGreaterThan(0);
        if (process.env.STEALTH_DIFF_DUMP) process.stderr.write(`${JSON.stringify({ theirs, ours }, null, 1)}\n`);
        expect(ours).toEqual(theirs);
      },
      180000,
    );
  }
});
