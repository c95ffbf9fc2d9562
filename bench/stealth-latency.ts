import { median, withDaemon, type Side } from './stealth/lab.js';

// First probe packet to the KILL_ROUTE rule in place, -stcp and -atcp, ours vs PortSentry 1.2 in the same run.
// Each of 30 scanners (its own source address) sends SYNs to a watched port every millisecond; the victim answers
// each with a RST until the iptables DROP rule is in, so latency = replies received x interval (1 ms resolution).
const SCANNERS = 30;
const INTERVAL_US = 1000;
const COUNT = 600;

const scanner = (i: number): string => `192.0.2.${20 + i}`;

const measure = async (side: Side, mode: string): Promise<number[]> =>
  withDaemon(side, mode, { BLOCK_TCP: '1', KILL_ROUTE: '/usr/sbin/iptables -I INPUT -s $TARGET$ -j DROP' }, async ({ lab }) => {
    await lab.addAttackerAddrs(Array.from({ length: SCANNERS }, (_, i) => scanner(i)));
    const out: number[] = [];
    for (let i = 0; i < SCANNERS; i++) {
      const r = await lab.run(lab.attacker, ['hping3', '-S', '-p', '1', '-i', `u${INTERVAL_US}`, '-c', String(COUNT), '-a', scanner(i), lab.victimV4], { reject: false, timeout: 30000 });
      const replies = (String(r.stdout).match(/flags=RA/g) ?? []).length;
      // All probes answered means the rule never came (or came after the window): not a latency sample.
      if (replies < COUNT) out.push(replies * INTERVAL_US / 1000);
    }
    return out;
  });

export async function main(_args: string[]): Promise<void> {
  for (const mode of ['stcp', 'atcp']) {
    const real = await measure('1.2', mode);
    const ours = await measure('ours', mode);
    const r = median(real);
    const o = median(ours);
    console.log(`stealth-latency -${mode}: ours ${o.toFixed(1)} ms, PortSentry 1.2 ${r.toFixed(1)} ms, ratio ${(o / r).toFixed(2)} `
      + `(median of ${ours.length}/${real.length} of ${SCANNERS} scanners; first SYN to iptables DROP in place; 2 shared cores)`);
  }
}
