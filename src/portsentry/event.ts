import type { Addr } from '../core/addr.js';
import type { Instant } from '../core/clock.js';

// The only thing a sensor produces. Sensors know nothing of config files, logs or firewalls.
export type DetectionMode = 'tcp' | 'udp' | 'stcp' | 'sudp' | 'atcp' | 'audp';

export type TcpFlags = { syn: boolean; fin: boolean; ack: boolean; psh: boolean; rst: boolean; urg: boolean };

export type ProbeEvent = {
  proto: 'tcp' | 'udp';
  mode: DetectionMode;
  src: Addr;
  dstPort: number;
  // Raw modes only: the TCP flags seen, and whether the IPv4 header carried options.
  flags?: TcpFlags;
  ipOptions?: boolean;
  at: Instant;
};
