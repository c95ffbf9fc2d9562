// The same config and the same probes against the real PortSentry 1.2 and ours, each in a fresh lab; everything
// they leave behind must match. Deliberate differences (docs/portsentry.md) are not exercised here.
import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import type { ResultPromise } from 'execa';
import type { Lab } from '../helpers/netns.js';
import { itReal } from '../helpers/real.js';
import { withSystemFiles } from '../helpers/system-file.js';
import { makeTmpDir } from '../helpers/tmp.js';
import {
  nmap,
  runSide,
  SYSTEM_CONF,
  SYSTEM_HOSTS_DENY,
  tcpConnect,
  udpSend,
  type Collector,
  type SideResult,
  type SideSpec,
} from './side.js';

// Each test holds the system-file lock, which another suite (the stealth one) may hold for minutes first.
const LOCKED = 600000;
const real = itReal({ root: true, commands: ['/usr/sbin/portsentry', 'nmap', 'nc', 'iptables', 'unshare'] });
const { dir, cleanup } = makeTmpDir('ps-diff-');
beforeAll(() => {
  mkdirSync(dir, { recursive: true });
});
afterAll(() => cleanup());

const confText = (body: string): string =>
  'TCP_PORTS="1,11,15,79,6667"\nUDP_PORTS="1,7,9,69"\n' +
  `BLOCKED_FILE="${dir}/blocked"\nHISTORY_FILE="${dir}/history"\nIGNORE_FILE="${dir}/ignore"\n${body}`;
const ROUTE = 'KILL_ROUTE="/usr/sbin/iptables -I INPUT -s $TARGET$ -j DROP"\n';
const DENY = 'KILL_HOSTS_DENY="ALL: $TARGET$ : DENY"\n';

type Step = (lab: Lab) => Promise<unknown>;
const seq =
  (...steps: Step[]) =>
  async (lab: Lab, c: Collector): Promise<void> => {
    for (const step of steps) {
      await step(lab);
      await c.settle(250);
    }
  };

type Scenario = Omit<SideSpec, 'which' | 'dir' | 'conf'> & { name: string; body: string };

const scenarios: Scenario[] = [
  {
    name: '-tcp BLOCK_TCP=0: ignored address, repeats, nmap -sT',
    mode: 'tcp',
    body: `BLOCK_TCP="0"\nSCAN_TRIGGER="0"\n${DENY}`,
    ignore: '127.0.0.1/32\n0.0.0.0\n192.0.2.3\n',
    probes: seq(
      (l) => tcpConnect(l, 1, '192.0.2.3'),
      (l) => tcpConnect(l, 1),
      (l) => tcpConnect(l, 1),
      (l) => nmap(l, '-sT', [11, 15, 79]),
    ),
  },
  {
    name: '-udp BLOCK_UDP=0: datagrams, ignored address, nmap -sU',
    mode: 'udp',
    body: 'BLOCK_UDP="0"\nSCAN_TRIGGER="1"\n',
    ignore: '192.0.2.3/32\n',
    probes: seq(
      (l) => udpSend(l, 7),
      (l) => udpSend(l, 7, '192.0.2.3'),
      (l) => nmap(l, '-sU', [1, 9, 69]),
    ),
  },
  {
    name: '-tcp SCAN_TRIGGER=3, BLOCK_TCP=1 with hosts.deny and KILL_ROUTE iptables, no ignore file',
    mode: 'tcp',
    body: `BLOCK_TCP="1"\nSCAN_TRIGGER="3"\n${DENY}${ROUTE}`,
    ignore: null,
    probes: seq(
      (l) => tcpConnect(l, 11, '192.0.2.4'),
      (l) => tcpConnect(l, 11, '192.0.2.4'),
      (l) => tcpConnect(l, 1),
      (l) => tcpConnect(l, 1),
      (l) => tcpConnect(l, 15),
      (l) => tcpConnect(l, 79, '192.0.2.4'),
    ),
  },
  {
    name: '-udp SCAN_TRIGGER=1, BLOCK_UDP=1, KILL_RUN_CMD first, KILL_ROUTE',
    mode: 'udp',
    body: `BLOCK_UDP="1"\nSCAN_TRIGGER="1"\n${ROUTE}${DENY}KILL_RUN_CMD="/bin/true $TARGET$ $PORT$ $MODE$"\nKILL_RUN_CMD_FIRST="1"\n`,
    ignore: '# nothing\n',
    probes: seq(
      (l) => udpSend(l, 9),
      (l) => udpSend(l, 69, '192.0.2.4'),
    ),
  },
  {
    name: '-tcp BLOCK_TCP=2 runs only KILL_RUN_CMD',
    mode: 'tcp',
    body: `BLOCK_TCP="2"\nSCAN_TRIGGER="0"\n${DENY}${ROUTE}KILL_RUN_CMD="/bin/true $TARGET$"\n`,
    ignore: '',
    probes: seq(
      (l) => tcpConnect(l, 15),
      (l) => tcpConnect(l, 6667),
    ),
  },
];

// One listener per side: prepare runs once for the original and once for ours, each in a namespace of its own.
const busy: ResultPromise[] = [];
const inUse: Scenario = {
  name: '-tcp a port already in use, unquoted BLOCK_TCP, no SCAN_TRIGGER key',
  mode: 'tcp',
  body: 'BLOCK_TCP=1\n',
  ignore: '',
  prepare: async (lab) => {
    busy.push(lab.run(lab.victim, ['nc', '-lk', '79'], { reject: false, timeout: 120000 }));
    await new Promise((r) => setTimeout(r, 300));
  },
  probes: seq((l) => tcpConnect(l, 11)),
};

const compare = (orig: SideResult, ours: SideResult): void => {
  expect(ours.syslog).toEqual(orig.syslog);
  expect(ours.pids).toBe(orig.pids);
  expect(ours.history).toEqual(orig.history);
  expect(ours.blocked).toEqual(orig.blocked);
  expect(ours.hostsDeny).toBe(orig.hostsDeny);
  expect(ours.iptables).toEqual(orig.iptables);
};

const runBoth = (s: Scenario) =>
  withSystemFiles([SYSTEM_CONF, SYSTEM_HOSTS_DENY], async () => {
    const spec = { ...s, dir, conf: confText(s.body) };
    const orig = await runSide({ ...spec, which: 'original' });
    const ours = await runSide({ ...spec, which: 'ours' });
    return { orig, ours };
  });

// PORT_BANNER: what the prober receives must match too (TCP: written then closed; UDP: sent back).
const received: string[] = [];
const bannerScenario = (mode: 'tcp' | 'udp'): Scenario => ({
  name: `-${mode} PORT_BANNER is sent to the prober, RESOLVE_HOST="0"`,
  mode,
  ignore: '',
  body: `BLOCK_${mode.toUpperCase()}="0"\nSCAN_TRIGGER="0"\nRESOLVE_HOST = "0"\nPORT_BANNER="** UNAUTHORIZED ACCESS PROHIBITED *** GO AWAY."\n`,
  probes: seq(async (l) => {
    const r =
      mode === 'tcp'
        ? await l.run(l.attacker, ['nc', '-w', '2', l.victimV4, '11'], { reject: false, input: '' })
        : await l.run(l.attacker, ['nc', '-u', '-w', '1', l.victimV4, '7'], { reject: false, input: 'x' });
    received.push(String(r.stdout));
  }),
});

describe('portsentry -tcp/-udp against the real PortSentry 1.2', () => {
  for (const mode of ['tcp', 'udp'] as const) {
    real(
      `-${mode} PORT_BANNER`,
      async () => {
        received.length = 0;
        const { orig, ours } = await runBoth(bannerScenario(mode));
        compare(orig, ours);
        expect(received[0]).toBe('** UNAUTHORIZED ACCESS PROHIBITED *** GO AWAY.');
        expect(received[1]).toBe(received[0]);
      },
      LOCKED,
    );
  }
  for (const s of scenarios) {
    real(
      s.name,
      async () => {
        const { orig, ours } = await runBoth(s);
        expect(orig.syslog.some((l) => l.includes('attackalert'))).toBe(true);
        compare(orig, ours);
      },
      LOCKED,
    );
  }
  real(
    inUse.name,
    async () => {
      try {
        const { orig, ours } = await runBoth(inUse);
        expect(orig.syslog.some((l) => l.includes('could not bind TCP socket: 79'))).toBe(true);
        compare(orig, ours);
      } finally {
        for (const b of busy) b.kill('SIGKILL');
        const ends = await Promise.all(busy.splice(0));
        expect(ends.map((e) => e.signal ?? e.exitCode)).toEqual(['SIGKILL', 'SIGKILL']); // both sides' listeners, none left behind
      }
    },
    LOCKED,
  );
});
