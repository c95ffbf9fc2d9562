import { diag, fail, ok, type Diagnostic, type Result } from '../../../core/diagnostics.js';

// One option as read: its raw value (before %(x)s interpolation) and where it was written.
export type IniValue = { value: string; file: string; line: number };
export type IniOptions = Map<string, IniValue>;
export type IniSection = { name: string; file: string; line: number; options: IniOptions };
export type IniFile = { file: string; sections: Map<string, IniSection> };

const SECTION_RE = /^\[([^\]]+)\]/;
const OPTION_RE = /^(.*?)\s*([=:])\s*(.*)$/;

// Position of an inline `;` comment (only when preceded by whitespace), or -1.
const inlineComment = (line: string): number => {
  for (let i = line.indexOf(';'); i > 0; i = line.indexOf(';', i + 1)) {
    if (/\s/.test(line[i - 1] ?? '')) return i;
  }
  return -1;
};

type Pending = { section: IniSection; key: string; lines: string[]; line: number; indent: number };

// Parses fail2ban's INI dialect (Python configparser, strict, `;` inline comments, indented continuations).
export const parseIni = (text: string, file: string): Result<IniFile> => {
  const sections = new Map<string, IniSection>();
  const errors: Diagnostic[] = [];
  let current: IniSection | null = null;
  let pending: Pending | null = null;
  const flush = (): void => {
    if (!pending) return;
    while (pending.lines.length > 1 && pending.lines[pending.lines.length - 1] === '') pending.lines.pop();
    pending.section.options.set(pending.key, { value: pending.lines.join('\n'), file, line: pending.line });
    pending = null;
  };
  const rows = text.split(/\r?\n/);
  for (let n = 0; n < rows.length; n++) {
    const raw = rows[n] ?? '';
    const lineNo = n + 1;
    const stripped = raw.trim();
    const isComment = stripped.startsWith('#') || stripped.startsWith(';');
    const ic = isComment ? 0 : inlineComment(raw);
    const value = (ic >= 0 ? raw.slice(0, ic) : raw).trim();
    if (value === '') {
      if (!isComment && ic < 0 && pending) pending.lines.push('');
      continue;
    }
    const indent = raw.length - raw.trimStart().length;
    if (pending && indent > pending.indent) {
      pending.lines.push(value);
      continue;
    }
    flush();
    const sec = SECTION_RE.exec(value);
    if (sec) {
      const name = sec[1] ?? '';
      if (sections.has(name)) {
        errors.push(diag(file, lineNo, `section [${name}] already defined in this file`));
      }
      current = { name, file, line: lineNo, options: new Map() };
      sections.set(name, current);
      continue;
    }
    if (!current) {
      errors.push(diag(file, lineNo, `expected a [section] header, found ${JSON.stringify(value)}`));
      continue;
    }
    const opt = OPTION_RE.exec(value);
    if (!opt) {
      errors.push(diag(file, lineNo, `expected "name = value", found ${JSON.stringify(value)}`, current.name));
      continue;
    }
    const key = (opt[1] ?? '').trim().toLowerCase();
    if (key === '') {
      errors.push(diag(file, lineNo, 'option without a name', current.name));
      continue;
    }
    if (current.options.has(key))
      errors.push(diag(file, lineNo, `option "${key}" already set in this section`, current.name));
    pending = { section: current, key, lines: [opt[3] ?? ''], line: lineNo, indent };
  }
  flush();
  return errors.length ? fail(errors) : ok({ file, sections });
};
