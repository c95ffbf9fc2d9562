import ipaddr from 'ipaddr.js';

// An address parsed once at the edge. IPv4-mapped IPv6 is unwrapped to IPv4, so equal hosts have equal `text`.
// The ipaddr.js object is made when first asked for (`ip`, `bytes`): matching holds tens of thousands of addresses
// and needs only their text.
export class Addr {
  readonly family: 4 | 6;
  readonly text: string;
  #ip: ipaddr.IPv4 | ipaddr.IPv6 | null;

  private constructor(family: 4 | 6, text: string, ip: ipaddr.IPv4 | ipaddr.IPv6 | null) {
    this.family = family;
    this.text = text;
    this.#ip = ip;
  }

  static fromIp(ip: ipaddr.IPv4 | ipaddr.IPv6): Addr {
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
      const v4 = (ip as ipaddr.IPv6).toIPv4Address();
      return new Addr(4, v4.toString(), v4);
    }
    return ip.kind() === 'ipv4'
      ? new Addr(4, ip.toString(), ip)
      : new Addr(6, (ip as ipaddr.IPv6).toRFC5952String(), ip);
  }

  // `text` is canonical (checked by the caller): the ipaddr.js object is parsed from it when needed.
  static fromCanonical(family: 4 | 6, text: string): Addr {
    return new Addr(family, text, null);
  }

  get ip(): ipaddr.IPv4 | ipaddr.IPv6 {
    return (this.#ip ??= ipaddr.parse(this.text));
  }
  get bytes(): number[] {
    return this.ip.toByteArray();
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

// A copy of a (short) text that does not keep the string it was sliced from alive (a 64 KiB chunk of a log).
const own = (t: string): string => ` ${t}`.slice(1);

// A strict dotted quad (1-3 digits an octet, no leading zero, at most 255): the text itself is canonical. False
// for anything else, which the general path then decides.
const isStrictQuad = (t: string): boolean => {
  const n = t.length;
  if (n < 7 || n > 15) return false;
  let dots = 0;
  let digits = 0;
  let v = 0;
  let lead = 0;
  for (let i = 0; i < n; i++) {
    const c = t.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return false;
      dots++;
      digits = 0;
      v = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 0) lead = c;
      else if (lead === 48 || digits === 3) return false;
      v = v * 10 + c - 48;
      if (v > 255) return false;
      digits++;
    } else return false;
  }
  return dots === 3 && digits > 0;
};

// IPv6 in plain hex form (groups of 1-4 hex digits, at most one "::", nothing else), read into W (its 16-bit
// words). Returns NOT_HEX for anything else (embedded IPv4, zone, other shapes), which the general path
// (ipaddr.js) then decides: only texts that ipaddr.js reads the same way are taken here. Otherwise PLAIN, or
// CANONICAL when the text is already in RFC 5952 form (lower case, no leading zero, "::" exactly where RFC 5952
// puts it): then it is its own canonical text.
const W = new Uint16Array(8);
const NOT_HEX = 0;
const PLAIN = 1;
const CANONICAL = 2;
const readHex6 = (t: string): number => {
  const n = t.length;
  if (n < 2) return NOT_HEX;
  let count = 0; // words read
  let gapAt = -1; // words before the "::"
  let tidy = true; // lower case, no leading zero
  let i = 0;
  if (t.charCodeAt(0) === 58) {
    if (t.charCodeAt(1) !== 58) return NOT_HEX;
    gapAt = 0;
    i = 2;
  }
  while (i < n) {
    let v = 0;
    let d = 0;
    const first = t.charCodeAt(i);
    for (; i < n && d <= 4; i++, d++) {
      const c = t.charCodeAt(i);
      let h: number;
      if (c >= 48 && c <= 57) h = c - 48;
      else if (c >= 97 && c <= 102) h = c - 87;
      else if (c >= 65 && c <= 70) {
        h = c - 55;
        tidy = false;
      } else break;
      v = (v << 4) | h;
    }
    if (d === 0 || d > 4 || count === 8) return NOT_HEX;
    if (d > 1 && first === 48) tidy = false;
    W[count++] = v;
    if (i === n) break;
    if (t.charCodeAt(i) !== 58) return NOT_HEX;
    i++;
    if (i < n && t.charCodeAt(i) === 58) {
      if (gapAt >= 0) return NOT_HEX;
      gapAt = count;
      i++;
    } else if (i === n) return NOT_HEX;
  }
  if (gapAt < 0 ? count !== 8 : count > 7) return NOT_HEX;
  const gap = 8 - count;
  if (gap > 0) {
    // The words after the "::" move to the end, zeros in between.
    for (let k = count - 1; k >= gapAt; k--) W[k + gap] = W[k] as number;
    for (let k = gapAt; k < gapAt + gap; k++) W[k] = 0;
  }
  if (!tidy) return PLAIN;
  longestZeros();
  return (gap === 0 ? RUN_AT === -1 : gap >= 2 && RUN_AT === gapAt && RUN_LEN === gap) ? CANONICAL : PLAIN;
};

// The first longest run of two or more zero words in W: RUN_AT (-1: none) and RUN_LEN.
let RUN_AT = -1;
let RUN_LEN = 0;
const longestZeros = (): void => {
  RUN_AT = -1;
  RUN_LEN = 1;
  for (let k = 0; k < 8;) {
    if (W[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && W[e] === 0) e++;
    if (e - k > RUN_LEN) {
      RUN_AT = k;
      RUN_LEN = e - k;
    }
    k = e;
  }
};

// RFC 5952 text of W: lower-case hex without leading zeros, the first longest run of two or more zero words
// written "::".
const rfc5952 = (): string => {
  longestZeros();
  let s = '';
  for (let k = 0; k < 8; k++) {
    if (k === RUN_AT) {
      s += '::';
      k += RUN_LEN - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += (W[k] as number).toString(16);
  }
  return s;
};

// The plain-hex IPv6 fast path: the address in W (IPv4-mapped ::ffff:0:0/96 unwrapped to IPv4, as Addr.fromIp).
const fromHex6 = (t: string, kind: number): Addr => {
  if (W[0] === 0 && W[1] === 0 && W[2] === 0 && W[3] === 0 && W[4] === 0 && W[5] === 0xffff) {
    const a = W[6] as number;
    const b = W[7] as number;
    return Addr.fromCanonical(4, `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`);
  }
  return Addr.fromCanonical(6, kind === CANONICAL ? own(t) : rfc5952());
};

const DOTTED_QUAD = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

// Strict parse: dotted-quad IPv4 (no octal/hex/short forms that inet_aton would take) or IPv6, zone ids refused.
export const parseAddr = (text: string): Addr | null => {
  const t = text.trim();
  if (t.length === 0 || t.length > 45 || t.includes('%')) return null;
  const bare = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
  // Fast path for what a dual-stack socket reports for every IPv4 peer: "::ffff:a.b.c.d" is exactly a.b.c.d.
  // Anything the IPv4 parser refuses takes the general path below, as before.
  if (bare.length > 7 && bare.slice(0, 7).toLowerCase() === '::ffff:' && DOTTED_QUAD.test(bare.slice(7))) {
    const v4 = parseAddr(bare.slice(7));
    if (v4) return v4;
  }
  if (isStrictQuad(bare)) return Addr.fromCanonical(4, own(bare));
  if (bare.includes(':')) {
    const kind = readHex6(bare);
    if (kind !== NOT_HEX) return fromHex6(bare, kind);
    if (!ipaddr.IPv6.isValid(bare)) return null;
    return Addr.fromIp(ipaddr.IPv6.parse(bare));
  }
  if (!DOTTED_QUAD.test(bare)) return null;
  const parts = bare.split('.');
  if (parts.some((p) => Number(p) > 255 || (p.length > 1 && p.startsWith('0')))) return null;
  // Already checked to be a strict dotted quad: build it from the octets, not through ipaddr's general parser.
  return Addr.fromIp(new ipaddr.IPv4(parts.map(Number)));
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
    const net = networkOf(addr, b);
    return new Cidr(net, b);
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
