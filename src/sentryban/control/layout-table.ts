import type { Paint, Tone } from './layout-style.js';

// Aligned columns: each cell padded to its column's widest text (numbers to the right), two spaces between
// columns, the last column never padded; colour goes on after the padding so that it never shifts a column.
export type Cell = string | { text: string; tone?: Tone; right?: boolean };

const textOf = (c: Cell): string => (typeof c === 'string' ? c : c.text);

export const formatTable = (head: string[], rows: Cell[][], paint: Paint): string => {
  // A column of numbers has its heading to the right too.
  const right = head.map((_, i) =>
    rows.some((r) => {
      const c = r[i];
      return typeof c !== 'string' && c?.right === true;
    }),
  );
  const all: Cell[][] = [head.map((h, i) => ({ text: h, tone: 'bold' as const, right: right[i] === true })), ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => [...textOf(r[i] ?? '')].length)));
  return all
    .map((r) =>
      r
        .map((c, i) => {
          const text = textOf(c);
          const last = i === r.length - 1;
          const gap = ' '.repeat(Math.max(0, (widths[i] ?? 0) - [...text].length));
          const right = typeof c !== 'string' && c.right === true;
          const shown = typeof c !== 'string' && c.tone ? paint(c.tone, text) : text;
          return right ? gap + shown : last ? shown : shown + gap;
        })
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
};
