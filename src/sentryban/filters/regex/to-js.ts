import { parsePyRegex, PyRegexError, type ClassItem, type Node } from './py-ast.js';
import { ConditionalError, expandConditionals } from './conditionals.js';
import { makePossessive, POSSESSIVE_GROUP } from './possessive.js';

// `prefixes`: a match must start with one of these literal texts (from a leading `^abc`), for a fast reject.
export type Translated = { source: string; flags: string; groupNames: string[]; prefixes: string[] | null };

// Every literal text a match can start with (at position 0, after a leading `^`), or null when unbounded.
// Expands small character classes ([aA]) and alternations of literals, at most MAX_PREFIXES strings.
const MAX_PREFIXES = 16;

// Prefixes of a sequence, and whether they cover the whole sequence (nothing after them).
const seqPrefixes = (items: readonly Node[]): { list: string[]; complete: boolean } => {
  let acc: string[] = [''];
  for (const it of items) {
    const next = nodePrefixes(it);
    if (!next) return { list: acc, complete: false };
    const out: string[] = [];
    let partial = false;
    for (const a of acc)
      for (const [b, full] of next) {
        out.push(a + b);
        if (!full) partial = true;
      }
    if (out.length > MAX_PREFIXES) return { list: acc, complete: false };
    acc = out;
    if (partial) return { list: acc, complete: false };
  }
  return { list: acc, complete: true };
};

// Literal alternatives of one node: [text, wholeNodeIsThisLiteral].
const nodePrefixes = (n: Node): Array<[string, boolean]> | null => {
  if (n.t === 'char') return [[n.ch, true]];
  if (n.t === 'class' && !n.negate && n.items.length <= 4 && n.items.every((i) => 'lo' in i && i.lo === i.hi)) {
    return n.items.map((i) => [(i as { lo: string }).lo, true]);
  }
  if (n.t === 'group' && n.kind !== 'look' && n.ci === undefined) return nodePrefixes(n.body);
  if (n.t === 'seq') {
    const p = seqPrefixes(n.items);
    if (p.list.some((x) => x === '')) return null;
    return p.list.map((x) => [x, p.complete]);
  }
  if (n.t === 'alt') {
    const out: Array<[string, boolean]> = [];
    for (const a of n.alts) {
      const p = nodePrefixes(a);
      if (!p) return null;
      out.push(...p);
    }
    // Alternatives of different completeness cannot continue together: mark all partial unless all complete.
    const allFull = out.every(([, f]) => f);
    return out.length <= MAX_PREFIXES && out.every(([x]) => x !== '')
      ? out.map(([x]) => [x, allFull] as [string, boolean])
      : null;
  }
  return null;
};

const leadingLiterals = (n: Node, ci: boolean, ml: boolean): string[] | null => {
  if (ci || ml || n.t !== 'seq' || n.items[0]?.t !== 'bol') return null;
  const p = seqPrefixes(n.items.slice(1)).list;
  if (p.some((x) => x === '' || x.includes('\n'))) return null;
  return p;
};
export type TranslateError = { message: string; construct: string };

// fail2ban rewrites `((?i)X)` / `(?:(?i)X)` to `(?i:X)` before compiling (Python 3.11 refuses mid-pattern flags).
const GLOB2LOC = /(?<!\\)\((?:\?:)?(\(\?[a-z]+)\)/g;

const escChar = (c: string): string =>
  /[\\^$.|?*+()[\]{}/]/.test(c)
    ? `\\${c}`
    : c === '\n'
      ? '\\n'
      : c === '\r'
        ? '\\r'
        : c === '\t'
          ? '\\t'
          : c === '\0'
            ? '\\0'
            : c;
const escClass = (c: string): string =>
  /[\\\][^-]/.test(c) ? `\\${c}` : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\0' ? '\\0' : c;

const caseRanges = (lo: string, hi: string): string => {
  let out = '';
  const a = lo.charCodeAt(0);
  const b = hi.charCodeAt(0);
  const add = (from: number, to: number, delta: number): void => {
    const x = Math.max(a, from);
    const y = Math.min(b, to);
    if (x <= y) out += `${String.fromCharCode(x + delta)}-${String.fromCharCode(y + delta)}`;
  };
  add(97, 122, -32);
  add(65, 90, 32);
  return out;
};

type Ctx = { ci: boolean; globalCi: boolean; dotAll: boolean; multiline: boolean };

const emitClass = (n: { negate: boolean; items: ClassItem[] }, ctx: Ctx): string => {
  let s = '';
  for (const it of n.items) {
    if ('esc' in it) {
      s += it.esc;
      continue;
    }
    s += it.lo === it.hi ? escClass(it.lo) : `${escClass(it.lo)}-${escClass(it.hi)}`;
    if (ctx.ci && !ctx.globalCi) s += caseRanges(it.lo, it.hi);
  }
  return `[${n.negate ? '^' : ''}${s}]`;
};

const quantText = (min: number, max: number): string =>
  min === 0 && max === Infinity
    ? '*'
    : min === 1 && max === Infinity
      ? '+'
      : min === 0 && max === 1
        ? '?'
        : max === Infinity
          ? `{${min},}`
          : min === max
            ? `{${min}}`
            : `{${min},${max}}`;

const emit = (n: Node, ctx: Ctx): string => {
  switch (n.t) {
    case 'seq':
      return n.items.map((i) => emit(i, ctx)).join('');
    case 'alt':
      return n.alts.map((i) => emit(i, ctx)).join('|');
    case 'char': {
      const lower = n.ch.toLowerCase();
      const upper = n.ch.toUpperCase();
      if (ctx.ci && !ctx.globalCi && lower !== upper && lower.length === 1 && upper.length === 1)
        return `[${lower}${upper}]`;
      return escChar(n.ch);
    }
    case 'raw':
      return n.text;
    case 'class':
      return emitClass(n, ctx);
    case 'dot':
      return ctx.dotAll ? '[\\s\\S]' : '[^\\n]';
    case 'bol':
      return '^';
    case 'eol':
      return ctx.multiline ? '$' : '(?=\\n?$)';
    case 'bos':
      return '(?<![\\s\\S])';
    case 'eos':
      return '(?![\\s\\S])';
    case 'quant': {
      const body = emit(n.body, ctx);
      const atomic =
        n.body.t === 'group' ||
        n.body.t === 'class' ||
        n.body.t === 'dot' ||
        (n.body.t === 'char' && !(ctx.ci && /^\[/.test(body))) ||
        (n.body.t === 'raw' && /^\\(?:[dDwWsS]|k<\w+>|\d+)$/.test(n.body.text)) ||
        /^\[[^\]]*\]$/.test(body);
      return `${atomic ? body : `(?:${body})`}${quantText(n.min, n.max)}${n.lazy ? '?' : ''}`;
    }
    case 'group': {
      if (n.ci === false && ctx.globalCi)
        throw new PyRegexError('(?-i:...) inside a case-insensitive expression is not translated', 0);
      const inner = emit(n.body, n.ci === undefined ? ctx : { ...ctx, ci: n.ci || ctx.globalCi });
      if (n.kind === 'look') return `(?${n.look}${inner})`;
      if (n.kind === 'noncap') return `(?:${inner})`;
      return n.name ? `(?<${n.name}>${inner})` : `(${inner})`;
    }
    case 'cond':
      throw new ConditionalError('conditional left after expansion');
  }
};

const collectNames = (src: string): string[] =>
  [...src.matchAll(/\(\?<([A-Za-z_]\w*)>/g)].map((m) => m[1] ?? '').filter((n) => !POSSESSIVE_GROUP.test(n));

// Translates a Python regex into an equivalent JavaScript one, or says which construct cannot be.
// `multiline` is fail2ban's re.MULTILINE (maxlines > 1). `possessive`: make greedy runs possessive where that
// cannot change a match (possessive.ts); the source then has `__possN` groups that are not the pattern's own.
export const translatePyRegex = (
  python: string,
  multiline = false,
  possessive = false,
): { ok: true; value: Translated } | { ok: false; error: TranslateError } => {
  const src = python.replace(GLOB2LOC, '$1:');
  try {
    const parsed = parsePyRegex(src);
    const ml = multiline || parsed.flags.m;
    const expanded = expandConditionals(parsed.node);
    const node = possessive && !parsed.flags.i && !ml ? makePossessive(expanded, parsed.flags.s) : expanded;
    const ctx: Ctx = { ci: parsed.flags.i, globalCi: parsed.flags.i, dotAll: parsed.flags.s, multiline: ml };
    const source = emit(node, ctx);
    const flags = `${parsed.flags.i ? 'i' : ''}${ml ? 'm' : ''}`;
    new RegExp(source, flags);
    return {
      ok: true,
      value: {
        source,
        flags,
        groupNames: collectNames(source),
        prefixes: leadingLiterals(parsed.node, parsed.flags.i, ml),
      },
    };
  } catch (e) {
    const pos = e instanceof PyRegexError ? e.pos : -1;
    const construct = pos >= 0 ? src.slice(pos, pos + 16) : '';
    return { ok: false, error: { message: (e as Error).message, construct } };
  }
};
