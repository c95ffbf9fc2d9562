import { Cidr, type Addr } from '../../core/addr.js';
import type { Failure } from '../types.js';
import type { EscalateConfig, PrefixConfig } from './config.js';

// The target's prefix length: the captured one, else the configured prefix of the address's family, else the host.
const targetBits = (prefix: PrefixConfig, addr: Addr, cidr: number | undefined): number =>
  cidr ?? (addr.family === 6 ? prefix.v6Bits : prefix.v4Bits) ?? (addr.family === 4 ? 32 : 128);

// What a failure counts against and bans: the host, the subnet the filter captured (<SUBNET>/<CIDR>), or the
// configured prefix (IPv6 /64 when prefix counting is on). Null for ids that are not addresses.
export const targetOf = (prefix: PrefixConfig, f: Failure): Cidr | null =>
  f.addr ? Cidr.of(f.addr, targetBits(prefix, f.addr, f.cidr)) : null;

export const escalationFor = (esc: EscalateConfig | null, addr: Addr): Cidr | null =>
  esc ? Cidr.of(addr, addr.family === 4 ? esc.v4Bits : esc.v6Bits) : null;

// A failure's target when it is wider than its address (captured subnet, prefix counting), as text, without building
// a Cidr for a host: null for a host (it counts under its address text) or an id that is not an address.
export const subnetText = (prefix: PrefixConfig, f: Failure): string | null => {
  if (!f.addr) return null;
  const bits = targetBits(prefix, f.addr, f.cidr);
  return bits >= (f.addr.family === 4 ? 32 : 128) ? null : Cidr.of(f.addr, bits).text;
};
