import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

const hasMagic = (s: string): boolean => /[*?[]/.test(s);

// fail2ban-style glob segment (* ? [..]) -> RegExp; a leading dot must be matched explicitly.
const segmentRe = (seg: string): RegExp => {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = seg.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
};

// Expands a path pattern to the existing regular files it names, sorted.
export const expandGlob = (pattern: string): string[] => {
  const abs = isAbsolute(pattern) ? pattern : resolve(pattern);
  if (!hasMagic(abs)) return [abs];
  const parts = abs.split(sep).filter((p, i) => p !== '' || i === 0);
  let bases: string[] = [sep];
  for (const part of parts.slice(1)) {
    const next: string[] = [];
    for (const b of bases) {
      if (!hasMagic(part)) {
        next.push(join(b, part));
        continue;
      }
      const re = segmentRe(part);
      let names: string[];
      try {
        names = readdirSync(b);
      } catch {
        continue;
      }
      for (const n of names) if (re.test(n) && (!n.startsWith('.') || part.startsWith('.'))) next.push(join(b, n));
    }
    bases = next;
  }
  return bases
    .filter((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    })
    .sort();
};
