import type { Lab } from '../../helpers/netns.js';

// One probe from the attacker namespace; argv arrays only. hping3 -c 1 sends a single packet.
export type Probe = { tool: 'hping3' | 'nmap'; args: string[]; v6?: boolean };

export const hping = (...args: string[]): Probe => ({ tool: 'hping3', args });
export const nmap = (...args: string[]): Probe => ({ tool: 'nmap', args });
export const nmap6 = (...args: string[]): Probe => ({ tool: 'nmap', args: ['-6', ...args], v6: true });

export const send = async (lab: Lab, p: Probe, target?: string): Promise<void> => {
  const to = target ?? (p.v6 ? lab.victimV6 : lab.victimV4);
  const argv =
    p.tool === 'hping3'
      ? ['hping3', '-q', '-c', '1', ...p.args, to]
      : ['nmap', '-n', '-Pn', '--max-retries', '0', '--host-timeout', '10s', ...p.args, to];
  await lab.run(lab.attacker, argv, { reject: false, timeout: 20000 });
};
