import { Cidr, type Addr } from '../../core/addr.js';
import type { Failure } from '../types.js';
import type { EscalateConfig, PrefixConfig } from './config.js';

// What a failure counts against and bans: the host, the subnet the filter captured (<SUBNET>/<CIDR>), or the
// configured prefix (IPv6 /64 when prefix counting is on). Null for ids that are not addresses.
export const targetOf = (prefix: PrefixConfig, f: Failure): Cidr | null => {
  if (!f.addr) return null;
  if (f.cidr !== undefined) return Cidr.of(f.addr, f.cidr);
  const bits = f.addr.family === 6 ? prefix.v6Bits : prefix.v4Bits;
  return Cidr.of(f.addr, bits ?? (f.addr.family === 4 ? 32 : 128));
};

export const escalationFor = (esc: EscalateConfig | null, addr: Addr): Cidr | null =>
  esc ? Cidr.of(addr, addr.family === 4 ? esc.v4Bits : esc.v6Bits) : null;

// A failure's target when it is wider than its address (captured subnet, prefix counting), as text, without building
// a Cidr for a host: null for a host (it counts under its address text) or an id that is not an address.
export const subnetText = (prefix: PrefixConfig, f: Failure): string | null => {
  if (!f.addr) return null;
  const full = f.addr.family === 4 ? 32 : 128;
  const bits = f.cidr ?? (f.addr.family === 6 ? prefix.v6Bits : prefix.v4Bits) ?? full;
  return bits >= full ? null : Cidr.of(f.addr, bits).text;
};
