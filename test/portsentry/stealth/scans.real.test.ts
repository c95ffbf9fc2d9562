import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, type Lab } from '../../helpers/netns.js';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { startOurs, writeConf } from './lab-daemon.js';
import { hping, nmap, nmap6, send, type Probe } from './probe.js';

// Real scans from a second namespace against ours, one daemon per mode. BLOCK_x="0" so every probe keeps
// reaching the sensor ("Ignoring ... response", then "already blocked" for later probes of the same host).
const real = itReal({ root: true, commands: ['ip', 'hping3', 'nmap', 'nc', 'iptables'] });

type Case = { name: string; probe: Probe; expect: string | null };
const A4 = '192.0.2.2/192.0.2.2';
const A6 = '2001:db8::2/2001:db8::2';

describe('stealth modes against real scans (ours)', () => {
  let lab: Lab;
  let tmp: { dir: string; cleanup: () => void };
  beforeAll(async () => {
    lab = await createLab();
    tmp = makeTmpDir('stealth-scan-');
  }, 60000);
  afterAll(async () => {
    await lab?.destroy();
    tmp?.cleanup();
  });

  // Sends each probe, then a sentinel that must log; every line between belongs to the probe.
  const runCases = async (
    lines: string[],
    cases: Case[],
    sentinelOf: Probe | ((i: number) => Probe),
    sentinelText: string,
  ): Promise<void> => {
    for (const [i, c] of cases.entries()) {
      const sentinel = typeof sentinelOf === 'function' ? sentinelOf(i) : sentinelOf;
      const before = lines.length;
      await send(lab, c.probe);
      if (c.expect === null) {
        await send(lab, sentinel);
        await waitFor(() => lines.slice(before).some((l) => l.includes(sentinelText)), {
          timeoutMs: 10000,
          what: `sentinel after ${c.name}`,
        });
        const got = lines.slice(before).filter((l) => l.includes(' scan from host') || l.includes('Unknown Type'));
        expect({ name: c.name, got }).toEqual({ name: c.name, got: got.filter((l) => l.includes(sentinelText)) });
      } else {
        const want = c.expect;
        await waitFor(() => lines.slice(before).some((l) => l === want), {
          timeoutMs: 10000,
          what: `${c.name}: ${want}`,
        }).catch(() => {
          throw new Error(`${c.name}: expected "${want}", got ${JSON.stringify(lines.slice(before))}`);
        });
      }
    }
  };

  real(
    '-stcp: SYN, FIN, NULL, XMAS, SYN+FIN, URG, IP options, nmap -sS/-sF/-sN/-sX/-sT and -6; ACK/RST and cold ports ignored',
    async () => {
      const conf = join(tmp.dir, 'stcp.conf');
      writeConf(conf, tmp.dir, {});
      const d = await startOurs(lab, lab.victim, 'stcp', conf, join(tmp.dir, 'hosts.deny'));
      try {
        const cases: Case[] = [
          {
            name: 'hping3 SYN',
            probe: hping('-S', '-p', '1'),
            expect: `attackalert: TCP SYN/Normal scan from host: ${A4} to TCP port: 1`,
          },
          {
            name: 'hping3 FIN',
            probe: hping('-F', '-p', '11'),
            expect: `attackalert: TCP FIN scan from host: ${A4} to TCP port: 11`,
          },
          {
            name: 'hping3 NULL',
            probe: hping('-p', '15'),
            expect: `attackalert:  TCP NULL scan from host: ${A4} to TCP port: 15`,
          },
          {
            name: 'hping3 XMAS',
            probe: hping('-F', '-P', '-U', '-p', '79'),
            expect: `attackalert: TCP XMAS scan from host: ${A4} to TCP port: 79`,
          },
          {
            name: 'hping3 SYN+FIN',
            probe: hping('-S', '-F', '-p', '111'),
            expect: `attackalert: Unknown Type: TCP Packet Flags: SYN: 1 FIN: 1 ACK: 0 PSH: 0 URG: 0 RST: 0 from host: ${A4} to TCP port: 111`,
          },
          {
            name: 'hping3 URG',
            probe: hping('-U', '-p', '119'),
            expect: `attackalert: Unknown Type: TCP Packet Flags: SYN: 0 FIN: 0 ACK: 0 PSH: 0 URG: 1 RST: 0 from host: ${A4} to TCP port: 119`,
          },
          {
            name: 'hping3 SYN + IP options',
            probe: hping('-S', '-G', '-p', '143'),
            expect: `attackalert: Packet from host: ${A4} to TCP port: 143 has IP options set (detection avoidance technique).`,
          },
          { name: 'hping3 ACK', probe: hping('-A', '-p', '540'), expect: null },
          { name: 'hping3 RST', probe: hping('-R', '-p', '540'), expect: null },
          { name: 'hping3 SYN to an unwatched port', probe: hping('-S', '-p', '80'), expect: null },
          { name: 'nmap -sA', probe: nmap('-sA', '-p', '540'), expect: null },
          {
            name: 'nmap -sS',
            probe: nmap('-sS', '-p', '635'),
            expect: `attackalert: TCP SYN/Normal scan from host: ${A4} to TCP port: 635`,
          },
          {
            name: 'nmap -sF',
            probe: nmap('-sF', '-p', '1080'),
            expect: `attackalert: TCP FIN scan from host: ${A4} to TCP port: 1080`,
          },
          {
            name: 'nmap -sN',
            probe: nmap('-sN', '-p', '1524'),
            expect: `attackalert:  TCP NULL scan from host: ${A4} to TCP port: 1524`,
          },
          {
            name: 'nmap -sX',
            probe: nmap('-sX', '-p', '2000'),
            expect: `attackalert: TCP XMAS scan from host: ${A4} to TCP port: 2000`,
          },
          {
            name: 'nmap -sT',
            probe: nmap('-sT', '-p', '5742'),
            expect: `attackalert: TCP SYN/Normal scan from host: ${A4} to TCP port: 5742`,
          },
          {
            name: 'nmap -6 -sS',
            probe: nmap6('-sS', '-p', '6667'),
            expect: `attackalert: TCP SYN/Normal scan from host: ${A6} to TCP port: 6667`,
          },
          {
            name: 'nmap -6 -sF',
            probe: nmap6('-sF', '-p', '12345'),
            expect: `attackalert: TCP FIN scan from host: ${A6} to TCP port: 12345`,
          },
          {
            name: 'nmap -6 -sN',
            probe: nmap6('-sN', '-p', '12346'),
            expect: `attackalert:  TCP NULL scan from host: ${A6} to TCP port: 12346`,
          },
          {
            name: 'nmap -6 -sX',
            probe: nmap6('-sX', '-p', '20034'),
            expect: `attackalert: TCP XMAS scan from host: ${A6} to TCP port: 20034`,
          },
          {
            name: 'nmap -6 -sT',
            probe: nmap6('-sT', '-p', '27665'),
            expect: `attackalert: TCP SYN/Normal scan from host: ${A6} to TCP port: 27665`,
          },
          { name: 'nmap -6 -sA', probe: nmap6('-sA', '-p', '27665'), expect: null },
        ];
        await runCases(d.lines, cases, hping('-S', '-p', '31337'), 'to TCP port: 31337');
        // The first alarm of each host is recorded; BLOCK_TCP="0" logs that it ignores the response.
        expect(d.lines).toContain('attackalert: Ignoring TCP response per configuration file setting.');
        expect(d.lines).toContain(`attackalert: Host: ${A4} is already blocked Ignoring`);
        const blocked = readFileSync(join(tmp.dir, 'portsentry.blocked.stcp'), 'latin1').split('\n').filter(Boolean);
        expect(blocked.map((l) => l.replace(/^\d+ - \S+ \S+ /, ''))).toEqual([
          `Host: ${A4} Port: 1 TCP Blocked`,
          `Host: ${A6} Port: 6667 TCP Blocked`,
        ]);
      } finally {
        await d.stop();
      }
    },
    180000,
  );

  real(
    '-stcp: a listener opened after start is respected (smart-verify), one held at start is not watched',
    async () => {
      const conf = join(tmp.dir, 'stcp2.conf');
      writeConf(conf, tmp.dir, { TCP_PORTS: '32771,32772,32773' });
      const early = lab.run(lab.victim, ['nc', '-l', '-k', '32771'], { reject: false, timeout: 120000 });
      await waitFor(
        async () =>
          String((await lab.run(lab.victim, ['ss', '-ltnH', 'sport = :32771'], { reject: false })).stdout).includes(
            '32771',
          ),
        { what: 'nc on 32771' },
      );
      const d = await startOurs(lab, lab.victim, 'stcp', conf, join(tmp.dir, 'hosts.deny'));
      const late = lab.run(lab.victim, ['nc', '-l', '-k', '32772'], { reject: false, timeout: 120000 });
      try {
        expect(d.lines).toContain(
          'adminalert: ERROR: Socket 32771 is in use and will not be monitored. Attempting to continue',
        );
        await waitFor(
          async () =>
            String((await lab.run(lab.victim, ['ss', '-ltnH', 'sport = :32772'], { reject: false })).stdout).includes(
              '32772',
            ),
          { what: 'nc on 32772' },
        );
        await runCases(
          d.lines,
          [
            { name: 'port held at start', probe: hping('-S', '-p', '32771'), expect: null },
            { name: 'port opened after start', probe: hping('-F', '-p', '32772'), expect: null },
          ],
          hping('-S', '-p', '32773'),
          'to TCP port: 32773',
        );
      } finally {
        await d.stop();
        early.kill();
        late.kill();
        await Promise.allSettled([early, late]);
      }
    },
    120000,
  );

  real(
    '-stcp: a packet to an address that is not this host (broadcast) is not a probe',
    async () => {
      const conf = join(tmp.dir, 'stcp3.conf');
      writeConf(conf, tmp.dir, { TCP_PORTS: '40421,49724' });
      const d = await startOurs(lab, lab.victim, 'stcp', conf, join(tmp.dir, 'hosts.deny'));
      try {
        const before = d.lines.length;
        await send(lab, hping('-S', '-p', '40421'), '192.0.2.255');
        await send(lab, hping('-S', '-p', '49724'));
        await waitFor(() => d.lines.slice(before).some((l) => l.includes('to TCP port: 49724')), { what: 'sentinel' });
        expect(d.lines.slice(before).filter((l) => l.includes('40421'))).toEqual([]);
      } finally {
        await d.stop();
      }
    },
    60000,
  );

  real(
    '-sudp: hping3 UDP, UDP with IP options, nmap -sU and -6 -sU',
    async () => {
      const conf = join(tmp.dir, 'sudp.conf');
      writeConf(conf, tmp.dir, {});
      const d = await startOurs(lab, lab.victim, 'sudp', conf, join(tmp.dir, 'hosts.deny'));
      try {
        await runCases(
          d.lines,
          [
            {
              name: 'hping3 -2',
              probe: hping('-2', '-p', '7'),
              expect: `attackalert: UDP scan from host: ${A4} to UDP port: 7`,
            },
            {
              name: 'hping3 -2 -G',
              probe: hping('-2', '-G', '-p', '9'),
              expect: `attackalert: Packet from host: ${A4} to UDP port: 9 has IP options set (detection avoidance technique).`,
            },
            { name: 'hping3 -2 to an unwatched port', probe: hping('-2', '-p', '53'), expect: null },
            {
              name: 'nmap -sU',
              probe: nmap('-sU', '-p', '69'),
              expect: `attackalert: UDP scan from host: ${A4} to UDP port: 69`,
            },
            {
              name: 'nmap -6 -sU',
              probe: nmap6('-sU', '-p', '161'),
              expect: `attackalert: UDP scan from host: ${A6} to UDP port: 161`,
            },
          ],
          hping('-2', '-p', '162'),
          'to UDP port: 162',
        );
        expect(d.lines).toContain('attackalert: Ignoring UDP response per configuration file setting.');
      } finally {
        await d.stop();
      }
    },
    120000,
  );

  real(
    '-atcp with KILL_ROUTE: first probe blocks the host (one rule, one history line); excluded and in-use ports ignored',
    async () => {
      const conf = join(tmp.dir, 'atcp.conf');
      writeConf(conf, tmp.dir, {
        ADVANCED_PORTS_TCP: '300',
        BLOCK_TCP: '1',
        KILL_ROUTE: '/usr/sbin/iptables -I INPUT -s $TARGET$ -j DROP',
      });
      const held = lab.run(lab.victim, ['nc', '-l', '-k', '222'], { reject: false, timeout: 120000 });
      await waitFor(
        async () =>
          String((await lab.run(lab.victim, ['ss', '-ltnH', 'sport = :222'], { reject: false })).stdout).includes(
            '222',
          ),
        { what: 'nc on 222' },
      );
      const d = await startOurs(lab, lab.victim, 'atcp', conf, join(tmp.dir, 'hosts.deny'));
      try {
        expect(d.lines).toEqual(
          expect.arrayContaining([
            'adminalert: Advanced mode will monitor first 300 ports',
            'adminalert: Advanced mode will manually exclude port: 113 ',
            'adminalert: Advanced Stealth scan detection mode activated. Ignored TCP port: 222',
            'adminalert: Advanced Stealth scan detection mode activated. Ignored TCP port: 139',
          ]),
        );
        await runCases(
          d.lines,
          [
            { name: 'excluded 113', probe: hping('-S', '-p', '113'), expect: null },
            { name: 'in use 222', probe: hping('-S', '-p', '222'), expect: null },
            { name: 'above the limit', probe: hping('-S', '-p', '300'), expect: null },
            { name: 'ACK', probe: hping('-A', '-p', '25'), expect: null },
          ],
          (i) => hping('-S', '-p', '299', '-a', `192.0.2.${100 + i}`),
          'to TCP port: 299',
        );
        await lab.addAttackerAddrs(['192.0.2.4']);
        await send(lab, nmap('-sS', '-S', '192.0.2.4', '-e', `sta${lab.id}`, '-p', '20-40'));
        await waitFor(
          () => d.lines.some((l) => l.startsWith('attackalert: Host 192.0.2.4 has been blocked via dropped route')),
          { what: 'route line' },
        );
        const rules = String((await lab.run(lab.victim, ['iptables', '-S', 'INPUT'])).stdout).split('\n');
        expect(rules.filter((r) => r.includes('192.0.2.4'))).toEqual(['-A INPUT -s 192.0.2.4/32 -j DROP']);
        const hist = readFileSync(join(tmp.dir, 'portsentry.history'), 'latin1')
          .split('\n')
          .filter((l) => l.includes('192.0.2.4'));
        expect(hist).toHaveLength(1);
        expect(hist[0]).toMatch(
          /^\d+ - \d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d Host: 192\.0\.2\.4\/192\.0\.2\.4 Port: (2\d|3\d|40) TCP Blocked$/,
        );
      } finally {
        await d.stop();
        held.kill();
        await Promise.allSettled([held]);
      }
    },
    120000,
  );

  real(
    '-audp: any UDP port below the limit except the excluded ones',
    async () => {
      const conf = join(tmp.dir, 'audp.conf');
      writeConf(conf, tmp.dir, { ADVANCED_PORTS_UDP: '600' });
      const d = await startOurs(lab, lab.victim, 'audp', conf, join(tmp.dir, 'hosts.deny'));
      try {
        await runCases(
          d.lines,
          [
            { name: 'excluded 137', probe: hping('-2', '-p', '137'), expect: null },
            { name: 'above the limit', probe: hping('-2', '-p', '600'), expect: null },
            {
              name: 'port 53',
              probe: hping('-2', '-p', '53'),
              expect: `attackalert: UDP scan from host: ${A4} to UDP port: 53`,
            },
            {
              name: 'nmap -6 -sU 123',
              probe: nmap6('-sU', '-p', '123'),
              expect: `attackalert: UDP scan from host: ${A6} to UDP port: 123`,
            },
          ],
          hping('-2', '-p', '599'),
          'to UDP port: 599',
        );
      } finally {
        await d.stop();
      }
    },
    120000,
  );
});
