import type { Cidr } from '../../../core/addr.js';

// hosts.deny lines for our bans live in one block per jail between two marker comments. Everything outside the
// block is kept byte for byte (the file is handled as latin1, which round-trips every byte).

export const beginMarker = (jail: string): string =>
  `# sentryban begin ${jail}: lines up to the end marker are managed by sentryban`;
export const endMarker = (jail: string): string => `# sentryban end ${jail}`;

const V4_MASK = (bits: number): string => {
  const m = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 0xff).join('.');
};

// "ALL: 192.0.2.1", "ALL: [2001:db8::1]", "ALL: 198.51.100.0/255.255.255.0", "ALL: [2001:db8::]/32".
export const planLine = (daemonList: string, target: Cidr): string => {
  const a = target.base;
  if (target.isHost()) return `${daemonList}: ${a.family === 4 ? a.text : `[${a.text}]`}`;
  return a.family === 4
    ? `${daemonList}: ${a.text}/${V4_MASK(target.bits)}`
    : `${daemonList}: [${a.text}]/${target.bits}`;
};

export type HostsFile = { before: string; lines: string[]; after: string };

// Cut the file into what precedes our block, our lines, and what follows. No block: everything is `before`.
export const parseHostsFile = (text: string, jail: string): HostsFile => {
  const begin = beginMarker(jail);
  const end = endMarker(jail);
  const start = findLine(text, begin, 0);
  if (start < 0) return { before: text, lines: [], after: '' };
  const bodyStart = lineEnd(text, start);
  const stop = findLine(text, end, bodyStart);
  const bodyEnd = stop < 0 ? text.length : stop;
  const afterStart = stop < 0 ? text.length : lineEnd(text, stop);
  const lines = text
    .slice(bodyStart, bodyEnd)
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.length > 0);
  return { before: text.slice(0, start), lines, after: text.slice(afterStart) };
};

// The whole file with our block holding exactly `lines` (deduplicated, order kept); no block when empty.
export const renderHostsFile = (f: HostsFile, lines: readonly string[], jail: string): string => {
  const unique = [...new Set(lines)];
  if (unique.length === 0) return f.before + f.after;
  const sep = f.before.length > 0 && !f.before.endsWith('\n') ? '\n' : '';
  const block = [beginMarker(jail), ...unique, endMarker(jail)].join('\n') + '\n';
  return f.before + sep + block + f.after;
};

const findLine = (text: string, line: string, from: number): number => {
  let i = from;
  for (;;) {
    const at = text.indexOf(line, i);
    if (at < 0) return -1;
    const startsLine = at === 0 || text[at - 1] === '\n';
    const after = text[at + line.length];
    if (startsLine && (after === undefined || after === '\n' || after === '\r')) return at;
    i = at + 1;
  }
};

const lineEnd = (text: string, at: number): number => {
  const nl = text.indexOf('\n', at);
  return nl < 0 ? text.length : nl + 1;
};
