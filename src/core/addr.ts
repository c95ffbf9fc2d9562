import ipaddr from 'ipaddr.js';

// ::ffff:0:0/96 (ipaddr.js's own isIPv4MappedAddress() walks its whole table of special ranges to say so).
const V4_MAPPED = ipaddr.IPv6.parse('::ffff:0:0');

// An address parsed once at the edge. IPv4-mapped IPv6 is unwrapped to IPv4, so equal hosts have equal `text`.
export class Addr {
  readonly family: 4 | 6;
  readonly text: string;
  readonly #ip: ipaddr.IPv4 | ipaddr.IPv6;
  #hostText: string | undefined;

  private constructor(ip: ipaddr.IPv4 | ipaddr.IPv6) {
    this.#ip = ip;
    this.family = ip.kind() === 'ipv4' ? 4 : 6;
    this.text = this.family === 4 ? ip.toString() : (ip as ipaddr.IPv6).toRFC5952String();
  }

  static fromIp(ip: ipaddr.IPv4 | ipaddr.IPv6): Addr {
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).match(V4_MAPPED, 96)) {
      return new Addr((ip as ipaddr.IPv6).toIPv4Address());
    }
    return new Addr(ip);
  }

  get ip(): ipaddr.IPv4 | ipaddr.IPv6 {
    return this.#ip;
  }
  // The text of the host's own prefix ("192.0.2.7/32", "2001:db8::1/128"), made once: a jail looks each
  // failure's target up by it (jails/jail.ts onFailure), and a new string per failure was hashed per lookup.
  get hostText(): string {
    return (this.#hostText ??= `${this.text}/${this.family === 4 ? 32 : 128}`);
  }
  get bytes(): number[] {
    return this.#ip.toByteArray();
  }
  equals(other: Addr): boolean {
    return this.text === other.text;
  }
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

const DOTTED_QUAD = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

// Strict parse: dotted-quad IPv4 (no octal/hex/short forms that inet_aton would take) or IPv6, zone ids refused.
export const parseAddr = (text: string): Addr | null => {
  const t = text.trim();
  if (t.length === 0 || t.length > 45 || t.includes('%')) return null;
  const bare = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
  // Fast path for what a dual-stack socket reports for every IPv4 peer: "::ffff:a.b.c.d" is exactly a.b.c.d.
  // Anything the IPv4 parser refuses takes the general path below, as before.
  if (
    bare.charCodeAt(0) === 58 &&
    bare.length > 7 &&
    bare.slice(0, 7).toLowerCase() === '::ffff:' &&
    DOTTED_QUAD.test(bare.slice(7))
  ) {
    const v4 = parseAddr(bare.slice(7));
    if (v4) return v4;
  }
  if (bare.includes(':')) {
    // ipaddr.IPv6.isValid(bare) then parse(bare) would run the same parser twice: parse throws where isValid is false.
    let ip: ipaddr.IPv6;
    try {
      ip = ipaddr.IPv6.parse(bare);
    } catch {
      return null;
    }
    return Addr.fromIp(ip);
  }
  if (!DOTTED_QUAD.test(bare)) return null;
  const octets: number[] = [];
  for (const p of bare.split('.')) {
    const n = Number(p);
    if (n > 255 || (p.length > 1 && p.charCodeAt(0) === 48)) return null; // (a leading "0")
    octets.push(n);
  }
  // Already checked to be a strict dotted quad: build it from the octets, not through ipaddr's general parser.
  return Addr.fromIp(new ipaddr.IPv4(octets));
};

export class Cidr {
  readonly base: Addr;
  readonly bits: number;
  readonly text: string;
  private constructor(base: Addr, bits: number) {
    this.base = base;
    this.bits = bits;
    this.text = `${base.text}/${bits}`;
  }
  static of(addr: Addr, bits: number): Cidr {
    const max = addr.family === 4 ? 32 : 128;
    const b = Math.max(0, Math.min(max, bits));
    // A host prefix's network is the address itself (an Addr is already unwrapped and in its canonical text): no
    // bytes masked and parsed back, no text made again (one per ban decided).
    return new Cidr(b === max ? addr : networkOf(addr, b), b);
  }
  contains(addr: Addr): boolean {
    if (addr.family !== this.base.family) return false;
    return networkOf(addr, this.bits).text === this.base.text;
  }
  isHost(): boolean {
    return this.bits === (this.base.family === 4 ? 32 : 128);
  }
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

const networkOf = (addr: Addr, bits: number): Addr => {
  const bytes = addr.bytes;
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return Addr.fromIp(ipaddr.fromByteArray(bytes));
};

// "a.b.c.d", "a.b.c.d/n", "2001:db8::/32", or an address alone (a host prefix). Null when not valid.
export const parseCidr = (text: string): Cidr | null => {
  const t = text.trim();
  const slash = t.indexOf('/');
  if (slash < 0) {
    const a = parseAddr(t);
    return a ? Cidr.of(a, a.family === 4 ? 32 : 128) : null;
  }
  const a = parseAddr(t.slice(0, slash));
  const bitsText = t.slice(slash + 1);
  if (!a || !/^\d{1,3}$/.test(bitsText)) return null;
  const bits = Number(bitsText);
  if (bits > (a.family === 4 ? 32 : 128)) return null;
  return Cidr.of(a, bits);
};
