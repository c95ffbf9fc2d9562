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

// IPv6 in plain hex form (groups of 1-4 hex digits, at most one "::", nothing else): its 16-bit words, or null
// for anything else (embedded IPv4, zone, other shapes), which the general path (ipaddr.js) then decides. Only
// texts that ipaddr.js reads the same way are taken here.
const hexWords = (t: string): Uint16Array | null => {
  const n = t.length;
  if (n < 2) return null;
  const head: number[] = [];
  const tail: number[] = [];
  let cur = head;
  let gap = false;
  let i = 0;
  if (t.charCodeAt(0) === 58) {
    if (t.charCodeAt(1) !== 58) return null;
    gap = true;
    cur = tail;
    i = 2;
    if (i === n) return new Uint16Array(8);
  }
  for (;;) {
    let v = 0;
    let d = 0;
    for (; i < n && d <= 4; i++, d++) {
      const c = t.charCodeAt(i);
      const h = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (h < 0) break;
      v = (v << 4) | h;
    }
    if (d === 0 || d > 4) return null;
    cur.push(v);
    if (i === n) break;
    if (t.charCodeAt(i) !== 58) return null;
    i++;
    if (i < n && t.charCodeAt(i) === 58) {
      if (gap) return null;
      gap = true;
      cur = tail;
      i++;
      if (i === n) break;
    } else if (i === n) return null;
  }
  const count = head.length + tail.length;
  if (gap ? count > 7 : count !== 8) return null;
  const w = new Uint16Array(8);
  for (let k = 0; k < head.length; k++) w[k] = head[k] as number;
  for (let k = 0; k < tail.length; k++) w[8 - tail.length + k] = tail[k] as number;
  return w;
};

// RFC 5952 text of 8 words: lower-case hex without leading zeros, the first longest run of two or more zero
// words written "::".
const rfc5952 = (w: Uint16Array): string => {
  let best = -1;
  let bestLen = 1;
  for (let k = 0; k < 8;) {
    if (w[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && w[e] === 0) e++;
    if (e - k > bestLen) {
      best = k;
      bestLen = e - k;
    }
    k = e;
  }
  let s = '';
  for (let k = 0; k < 8; k++) {
    if (k === best) {
      s += '::';
      k += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += (w[k] as number).toString(16);
  }
  return s;
};

// The plain-hex IPv6 fast path: the address (IPv4-mapped ::ffff:0:0/96 unwrapped to IPv4, as Addr.fromIp).
const fromHexWords = (w: Uint16Array): Addr => {
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    const a = w[6] as number;
    const b = w[7] as number;
    return Addr.fromCanonical(4, `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`);
  }
  return Addr.fromCanonical(6, rfc5952(w));
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
    const w = hexWords(bare);
    if (w !== null) return fromHexWords(w);
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
