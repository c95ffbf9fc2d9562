import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAddr } from '../../src/core/addr.js';
import type { Lab } from './netns.js';

// Probes with forged documentation-range sources, sent from inside a lab namespace by spoof-send.py (an AF_PACKET
// socket: the frames reach only the peer of the veth link). Planning is here; the script only builds and sends.
// Found from here or from dist-bench/ (benches run compiled, the script is not copied).
const findSender = (from: string): string => {
  for (let d = from; d !== dirname(d); d = dirname(d)) {
    const p = join(d, 'test', 'helpers', 'spoof-send.py');
    if (existsSync(p)) return p;
  }
  return join(from, 'spoof-send.py');
};
export const SENDER = findSender(dirname(fileURLToPath(import.meta.url)));

export type Kind = 'syn' | 'fin' | 'null' | 'xmas' | 'udp';
export type SpoofProbe = { src: string; dst: string; kind: Kind; port: number };

const FLAGS: Record<Kind, number> = { syn: 0x02, fin: 0x01, null: 0, xmas: 0x29, udp: 0 };
export const TCP_KINDS: Kind[] = ['syn', 'fin', 'null', 'xmas'];

// v4 addresses of the three documentation /24s, minus those in `reserved`, then v6 ones in 2001:db8:100::/40
// (outside the lab's own 2001:db8::/64), interleaved so that both families run through the whole flood.
export const documentationSources = (n: number, reserved: ReadonlySet<string>): string[] => {
  const v4: string[] = [];
  for (const net of ['198.51.100', '203.0.113', '192.0.2']) {
    for (let h = 1; h < 255; h++) if (!reserved.has(`${net}.${h}`)) v4.push(`${net}.${h}`);
  }
  const nV4 = Math.min(v4.length, Math.ceil(n / 2));
  const out: string[] = [];
  let i4 = 0;
  let i6 = 0;
  for (let i = 0; i < n; i++) {
    // Spread the v4 addresses evenly: take one whenever the v4 share so far falls behind nV4/n.
    if (i4 < nV4 && i4 * n <= i * nV4) out.push(v4[i4++] as string);
    else {
      const k = i6++;
      // As the daemon prints it (RFC 5952), so that its lines can be matched by text.
      const text = `2001:db8:${(0x100 + (k >> 16)).toString(16)}:${(k & 0xffff).toString(16)}::${(k % 250) + 1}`;
      out.push(parseAddr(text)?.text ?? text);
    }
  }
  return out;
};

export const probeLine = (p: SpoofProbe): string =>
  `${p.src} ${p.dst} ${p.kind === 'udp' ? 'udp' : 'tcp'} ${FLAGS[p.kind]} ${p.port}\n`;

export const macOf = async (lab: Lab, ns: string, dev: string): Promise<string> => {
  const r = await lab.run(ns, ['cat', `/sys/class/net/${dev}/address`]);
  return String(r.stdout).trim();
};

// Sends the probes in order from namespace ns through dev at most pps a second, for at most maxSeconds; resolves
// with the number the script says it sent.
export const sendSpoofed = async (
  lab: Lab,
  ns: string,
  dev: string,
  dstMac: string,
  probes: SpoofProbe[],
  pps: number,
  maxSeconds: number,
): Promise<number> => {
  const r = await execa('ip', ['netns', 'exec', ns, 'python3', SENDER, dev, dstMac, String(pps), String(maxSeconds)], {
    input: probes.map(probeLine).join(''),
    timeout: (maxSeconds + 30) * 1000,
    reject: false,
  });
  if (r.exitCode !== 0) throw new Error(`spoof-send.py failed (${String(r.exitCode)}): ${String(r.stderr)}`);
  return Number(String(r.stdout).trim());
};
