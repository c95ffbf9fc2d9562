import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { closest, diag, fail, type Diagnostic, type Result } from '../../core/diagnostics.js';
import { parseYamlTree, type YNode } from '../config/yaml-tree.js';
import { compileFilter, type CompileOptions, type Filter } from './filter.js';
import type { RegexSource } from './fail2ban/filter-reader.js';

export const FILTER_KEYS = [
  'name',
  'description',
  'prefregex',
  'failregex',
  'ignoreregex',
  'datepattern',
  'maxlines',
  'journalmatch',
  'usedns',
] as const;

const at = (n: YNode, key: string, message: string): Diagnostic =>
  diag(n.pos.file, n.pos.line, message, key, n.pos.col);

// A string or a list of strings, each with the line it is written on.
const strList = (n: YNode | undefined, key: string, errors: Diagnostic[]): RegexSource[] => {
  if (!n) return [];
  const items = n.kind === 'seq' ? n.items : [n];
  const out: RegexSource[] = [];
  items.forEach((it, i) => {
    const path = n.kind === 'seq' ? `${key}[${i}]` : key;
    if (it.kind !== 'scalar' || it.text.trim() === '')
      errors.push(
        at(
          it,
          path,
          `expected a non-empty string, got ${it.kind === 'scalar' ? JSON.stringify(it.text) : `a ${it.kind}`}`,
        ),
      );
    else out.push({ regex: it.text, file: it.pos.file, line: it.pos.line });
  });
  return out;
};

// Our YAML filter: the same regex syntax and tags as fail2ban's, as data; unknown keys refused with file:line.
export const loadYamlFilter = (file: string, o: CompileOptions = {}): Result<Filter> => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return fail([diag(file, 0, `cannot read: ${(e as Error).message}`)]);
  }
  const tree = parseYamlTree(text, file);
  if (!tree.ok) return tree;
  const root = tree.value;
  if (!root || root.kind !== 'map') return fail([diag(file, root?.pos.line ?? 1, 'expected a mapping of filter keys')]);
  const errors: Diagnostic[] = [];
  const get = new Map<string, YNode>();
  for (const e of root.entries) {
    if (!(FILTER_KEYS as readonly string[]).includes(e.key)) {
      const hint = closest(e.key, FILTER_KEYS);
      errors.push(
        diag(file, e.keyPos.line, `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`, e.key, e.keyPos.col),
      );
    } else if (get.has(e.key)) errors.push(diag(file, e.keyPos.line, 'key given twice', e.key, e.keyPos.col));
    else get.set(e.key, e.value);
  }
  const failregex = strList(get.get('failregex'), 'failregex', errors);
  const ignoreregex = strList(get.get('ignoreregex'), 'ignoreregex', errors);
  const pref = strList(get.get('prefregex'), 'prefregex', errors);
  const dates = strList(get.get('datepattern'), 'datepattern', errors);
  const jm = strList(get.get('journalmatch'), 'journalmatch', errors);
  const scalar = (key: string): { text: string; node: YNode } | null => {
    const n = get.get(key);
    if (!n) return null;
    if (n.kind !== 'scalar') {
      errors.push(at(n, key, `expected a single value, got a ${n.kind}`));
      return null;
    }
    return { text: n.text, node: n };
  };
  const ml = scalar('maxlines');
  const maxlines = ml ? Number(ml.text) : 1;
  if (ml && !(/^\d+$/.test(ml.text) && maxlines >= 1))
    errors.push(at(ml.node, 'maxlines', `expected a positive integer, got ${JSON.stringify(ml.text)}`));
  const dns = scalar('usedns');
  const usedns = dns === null ? 'no' : (({ false: 'no', true: 'yes' } as Record<string, string>)[dns.text] ?? dns.text);
  if (dns && !['yes', 'no', 'warn', 'raw'].includes(usedns))
    errors.push(at(dns.node, 'usedns', `expected yes, no, warn or raw, got ${JSON.stringify(dns.text)}`));
  const name = scalar('name');
  scalar('description');
  const prefNode = get.get('prefregex');
  if (pref.length > 1 && prefNode) errors.push(at(prefNode, 'prefregex', 'expected one prefregex'));
  if (!get.has('failregex')) errors.push(diag(file, root.pos.line, 'missing key', 'failregex'));
  if (errors.length) return fail(errors);
  return compileFilter(
    {
      name: name?.text ?? basename(file).replace(/\.ya?ml$/, ''),
      files: [file],
      prefregex: pref[0] ?? null,
      failregex,
      ignoreregex,
      datepattern: dates.length ? dates.map((x) => x.regex).join('\n') : null,
      maxlines,
      journalmatch: jm.map((x) => x.regex),
      usedns,
    },
    { usedns, ...o },
  );
};
