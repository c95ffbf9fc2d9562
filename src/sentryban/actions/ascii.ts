// Restore input written as ASCII bytes straight into a buffer: no string per line and nothing left to encode when
// it is piped (a restore of 100,000 bans spends most of its Node time building its input). Plain functions over
// (buffer, position): the caller sizes the buffer for what it writes.

// Text known to be ASCII (set names, element texts, keywords) at `p`; the position after it.
export const putAscii = (buf: Uint8Array, p: number, s: string): number => {
  for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
  return p;
};

// A non-negative integer in decimal at `p`; the position after it.
export const putUint = (buf: Uint8Array, p: number, n: number): number => {
  if (n >= 10) p = putUint(buf, p, Math.floor(n / 10));
  buf[p] = 48 + (n % 10);
  return p + 1;
};
