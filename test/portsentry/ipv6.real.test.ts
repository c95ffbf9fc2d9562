// IPv6 on the trap sockets (1.2 had none): the probe is logged like IPv4, hosts.deny gets the bracketed form,
// and KILL_ROUTE6 (our key) carries the address to ip6tables; IPv4 keeps using KILL_ROUTE.
import { afterAll, describe, expect } from '@jest/globals';
import { itReal } from '../helpers/real.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { runSide, tcpConnect } from './side.js';

const real = itReal({ root: true, commands: ['nc', 'iptables', 'ip6tables', 'unshare'] });
const { dir, cleanup } = makeTmpDir('ps-v6-');
afterAll(() => cleanup());

const conf =
  `TCP_PORTS="11"\nUDP_PORTS="9"\nBLOCKED_FILE="${dir}/blocked"\nHISTORY_FILE="${dir}/history"\nIGNORE_FILE="${dir}/ignore"\n` +
  'BLOCK_TCP="1"\nBLOCK_UDP="1"\nKILL_HOSTS_DENY="ALL: $TARGET$ : DENY"\n' +
  'KILL_ROUTE="/usr/sbin/iptables -I INPUT -s $TARGET$ -j DROP"\nKILL_ROUTE6="/usr/sbin/ip6tables -I INPUT -s $TARGET$ -j DROP"\n';

describe('IPv6 probes reach the listener and the KILL_* commands', () => {
  for (const mode of ['tcp', 'udp'] as const) {
    real(
      `-${mode} over IPv6, then IPv4`,
      async () => {
        let rules6 = '';
        const r = await runSide({
          which: 'ours',
          mode,
          dir,
          conf,
          ignore: '',
          confPath: `${dir}/portsentry.conf`,
          probes: async (lab, c) => {
            const port = mode === 'tcp' ? '11' : '9';
            await lab.run(
              lab.attacker,
              ['nc', '-6', ...(mode === 'udp' ? ['-u', '-q', '0', '-w', '1'] : ['-z', '-w', '2']), lab.victimV6, port],
              { reject: false, input: 'x' },
            );
            // Wait for the IPv6 block to finish before the IPv4 probe, however loaded the machine is.
            await waitFor(() => c.datagrams.some((d) => d.message.includes('ip6tables -I INPUT -s 2001:db8::2')), {
              timeoutMs: 20000,
              what: 'the IPv6 route line',
            });
            if (mode === 'tcp') await tcpConnect(lab, 11);
            else
              await lab.run(lab.attacker, ['nc', '-u', '-q', '0', '-w', '1', lab.victimV4, '9'], {
                reject: false,
                input: 'x',
              });
            await waitFor(() => c.datagrams.some((d) => d.message.includes('iptables -I INPUT -s 192.0.2.2')), {
              timeoutMs: 20000,
              what: 'the IPv4 route line',
            });
            await c.settle(300);
            rules6 = String((await lab.run(lab.victim, ['ip6tables', '-S', 'INPUT'])).stdout);
          },
        });
        const P = mode.toUpperCase();
        const port = mode === 'tcp' ? 11 : 9;
        expect(r.syslog.filter((l) => l.includes('attackalert'))).toEqual([
          `<29> attackalert: Connect from host: 2001:db8::2/2001:db8::2 to ${P} port: ${port}`,
          '<29> attackalert: Host 2001:db8::2 has been blocked via wrappers with string: "ALL: [2001:db8::2] : DENY"',
          '<29> attackalert: Host 2001:db8::2 has been blocked via dropped route using command: "/usr/sbin/ip6tables -I INPUT -s 2001:db8::2 -j DROP"',
          `<29> attackalert: Connect from host: 192.0.2.2/192.0.2.2 to ${P} port: ${port}`,
          '<29> attackalert: Host 192.0.2.2 has been blocked via wrappers with string: "ALL: 192.0.2.2 : DENY"',
          '<29> attackalert: Host 192.0.2.2 has been blocked via dropped route using command: "/usr/sbin/iptables -I INPUT -s 192.0.2.2 -j DROP"',
        ]);
        expect(rules6).toContain('-A INPUT -s 2001:db8::2/128 -j DROP');
        expect(r.iptables).toContain('-A INPUT -s 192.0.2.2/32 -j DROP');
        expect(r.hostsDeny).toBe('ALL: [2001:db8::2] : DENY\nALL: 192.0.2.2 : DENY\n');
        expect(r.history).toEqual([
          `Host: 2001:db8::2/2001:db8::2 Port: ${port} ${P} Blocked`,
          `Host: 192.0.2.2/192.0.2.2 Port: ${port} ${P} Blocked`,
        ]);
      },
      120000,
    );
  }
});
