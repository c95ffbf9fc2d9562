import { readFileSync } from 'node:fs';

// A systemd unit file read as systemd reads it (systemd.syntax(7)): [Section] headers, Key=Value lines,
// # and ; comments, a trailing backslash joining the next line. Every assignment is kept in order; `all` gives
// a list key's value as systemd builds it (an empty assignment clears what came before).
export type Unit = { path: string; sections: Map<string, [string, string][]> };

export const parseUnit = (text: string, path: string): Unit => {
  const sections = new Map<string, [string, string][]>();
  let current: [string, string][] | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] as string).trim();
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${(lines[++i] as string).trim()}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      current = sections.get(head[1] as string) ?? [];
      sections.set(head[1] as string, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0 || !current) throw new Error(`${path}:${i + 1}: not a Key=Value line: ${line}`);
    current.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return { path, sections };
};

export const readUnit = (path: string): Unit => parseUnit(readFileSync(path, 'utf8'), path);

// Every value given to key, in order, after the last empty assignment.
export const all = (u: Unit, section: string, key: string): string[] => {
  const out: string[] = [];
  for (const [k, v] of u.sections.get(section) ?? []) {
    if (k !== key) continue;
    if (v === '') out.length = 0;
    else out.push(v);
  }
  return out;
};

// A single-valued key: the last assignment wins.
export const one = (u: Unit, section: string, key: string): string | null => all(u, section, key).at(-1) ?? null;

// A list key split into its space-separated words (ReadWritePaths=, CapabilityBoundingSet=, ...).
export const words = (u: Unit, section: string, key: string): string[] =>
  all(u, section, key).flatMap((v) => v.split(/\s+/).filter((w) => w !== ''));

// An Exec*= line as argv: its prefixes (`+`, `-`, `@`, `:`, `!`) apart, %i replaced by the instance.
// The unit files here use no quoting; a quote is refused rather than split wrongly.
export const execLine = (value: string, instance = ''): { prefix: string; argv: string[] } => {
  if (/["']/.test(value)) throw new Error(`quoted Exec line not supported here: ${value}`);
  const m = /^([-+@:!]*)(.*)$/.exec(value) as RegExpExecArray;
  return { prefix: m[1] as string, argv: (m[2] as string).split(/\s+/).map((w) => w.replace(/%i/g, instance)) };
};
