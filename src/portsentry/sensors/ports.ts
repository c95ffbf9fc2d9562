import type { PortsentryConf } from '../conf.js';
import * as L from '../lines.js';

// The mode's port list as 1.2 reads it at mode setup, logging its messages; null when the mode must abort.
export const modePorts = (conf: PortsentryConf, proto: 'tcp' | 'udp', log: (line: string) => void): number[] | null => {
  const p = proto === 'tcp' ? 'TCP' : 'UDP';
  const list = proto === 'tcp' ? conf.tcpPorts : conf.udpPorts;
  if (list === 'no-quotes') {
    log(L.quotesMissing(`${p}_PORTS`));
    log(L.noPortsKey(p));
    return null;
  }
  if (list === null) {
    log(L.noPortsKey(p));
    return null;
  }
  if (list.ports.length === 0) {
    log(L.noPortsSupplied(p));
    return null;
  }
  return list.ports;
};

// A port Node can bind. 1.2 passed 0 (an ephemeral port) and 70000 (truncated to 16 bits) to bind().
export const isBindablePort = (port: number): boolean => Number.isInteger(port) && port >= 1 && port <= 65535;
