import { parsePyRegex, PyRegexError, type ClassItem, type Node } from './py-ast.js';
import { ConditionalError, expandConditionals } from './conditionals.js';

// `prefix`: literal text every match must start with at position 0 (from a leading `^abc`), for a fast reject.
export type Translated = { source: string; flags: string; groupNames: string[]; prefix: string | null };

// Literal text at the start of a sequence; `full` says whether the whole sequence was literal.
const literalOf = (items: readonly Node[]): { lit: string; full: boolean } => {
  let lit = '';
  for (const it of items) {
    if (it.t === 'char') { lit += it.ch; continue; }
    if (it.t === 'group' && it.kind !== 'look' && it.ci === undefined) {
      const body = it.body.t === 'seq' ? it.body.items : [it.body];
      const inner = literalOf(body);
      lit += inner.lit;
      if (inner.full) continue;
    }
    return { lit, full: false };
  }
  return { lit, full: true };
};

const leadingLiteral = (n: Node, ci: boolean, ml: boolean): string | null => {
  if (ci || ml || n.t !== 'seq' || n.items[0]?.t !== 'bol') return null;
  const { lit } = literalOf(n.items.slice(1));
  return lit.length && !lit.includes('\n') ? lit : null;
};
export type TranslateError = { message: string; construct: string };

// fail2ban rewrites `((?i)X)` / `(?:(?i)X)` to `(?i:X)` before compiling (Python 3.11 refuses mid-pattern flags).
const GLOB2LOC = /(?<!\\)\((?:\?:)?(\(\?[a-z]+)\)/g;

const escChar = (c: string): string => (/[\\^$.|?*+()[\]{}/]/.test(c) ? `\\${c}` : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : c === '\0' ? '\\0' : c);
const escClass = (c: string): string => (/[\\\]\[^-]/.test(c) ? `\\${c}` : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\0' ? '\\0' : c);

const caseRanges = (lo: string, hi: string): string => {
  let out = '';
  const a = lo.charCodeAt(0); const b = hi.charCodeAt(0);
  const add = (from: number, to: number, delta: number): void => {
    const x = Math.max(a, from); const y = Math.min(b, to);
    if (x <= y) out += `${String.fromCharCode(x + delta)}-${String.fromCharCode(y + delta)}`;
  };
  add(97, 122, -32); add(65, 90, 32);
  return out;
};

type Ctx = { ci: boolean; globalCi: boolean; dotAll: boolean; multiline: boolean };

const emitClass = (n: { negate: boolean; items: ClassItem[] }, ctx: Ctx): string => {
  let s = '';
  for (const it of n.items) {
    if ('esc' in it) { s += it.esc; continue; }
    s += it.lo === it.hi ? escClass(it.lo) : `${escClass(it.lo)}-${escClass(it.hi)}`;
    if (ctx.ci && !ctx.globalCi) s += caseRanges(it.lo, it.hi);
  }
  return `[${n.negate ? '^' : ''}${s}]`;
};

const quantText = (min: number, max: number): string =>
  min === 0 && max === Infinity ? '*' : min === 1 && max === Infinity ? '+' : min === 0 && max === 1 ? '?'
    : max === Infinity ? `{${min},}` : min === max ? `{${min}}` : `{${min},${max}}`;

const emit = (n: Node, ctx: Ctx): string => {
  switch (n.t) {
    case 'seq': return n.items.map((i) => emit(i, ctx)).join('');
    case 'alt': return n.alts.map((i) => emit(i, ctx)).join('|');
    case 'char': {
      const lower = n.ch.toLowerCase(); const upper = n.ch.toUpperCase();
      if (ctx.ci && !ctx.globalCi && lower !== upper && lower.length === 1 && upper.length === 1) return `[${lower}${upper}]`;
      return escChar(n.ch);
    }
    case 'raw': return n.text;
    case 'class': return emitClass(n, ctx);
    case 'dot': return ctx.dotAll ? '[\\s\\S]' : '[^\\n]';
    case 'bol': return '^';
    case 'eol': return ctx.multiline ? '$' : '(?=\\n?$)';
    case 'bos': return '(?<![\\s\\S])';
    case 'eos': return '(?![\\s\\S])';
    case 'quant': {
      const body = emit(n.body, ctx);
      const atomic = n.body.t === 'group' || n.body.t === 'class' || n.body.t === 'dot' || (n.body.t === 'char' && !(ctx.ci && /^\[/.test(body))) || (n.body.t === 'raw' && /^\\(?:[dDwWsS]|k<\w+>|\d+)$/.test(n.body.text)) || /^\[[^\]]*\]$/.test(body);
      return `${atomic ? body : `(?:${body})`}${quantText(n.min, n.max)}${n.lazy ? '?' : ''}`;
    }
    case 'group': {
      if (n.ci === false && ctx.globalCi) throw new PyRegexError('(?-i:...) inside a case-insensitive expression is not translated', 0);
      const inner = emit(n.body, n.ci === undefined ? ctx : { ...ctx, ci: n.ci || ctx.globalCi });
      if (n.kind === 'look') return `(?${n.look}${inner})`;
      if (n.kind === 'noncap') return `(?:${inner})`;
      return n.name ? `(?<${n.name}>${inner})` : `(${inner})`;
    }
    case 'cond': throw new ConditionalError('conditional left after expansion');
  }
};

const collectNames = (src: string): string[] => [...src.matchAll(/\(\?<([A-Za-z_]\w*)>/g)].map((m) => m[1] ?? '');

// Translates a Python regex into an equivalent JavaScript one, or says which construct cannot be.
// `multiline` is fail2ban's re.MULTILINE (maxlines > 1).
export const translatePyRegex = (python: string, multiline = false): { ok: true; value: Translated } | { ok: false; error: TranslateError } => {
  const src = python.replace(GLOB2LOC, '$1:');
  try {
    const parsed = parsePyRegex(src);
    const node = expandConditionals(parsed.node);
    const ml = multiline || parsed.flags.m;
    const ctx: Ctx = { ci: parsed.flags.i, globalCi: parsed.flags.i, dotAll: parsed.flags.s, multiline: ml };
    const source = emit(node, ctx);
    const flags = `${parsed.flags.i ? 'i' : ''}${ml ? 'm' : ''}`;
    new RegExp(source, flags);
    return { ok: true, value: { source, flags, groupNames: collectNames(source), prefix: leadingLiteral(parsed.node, parsed.flags.i, ml) } };
  } catch (e) {
    const pos = e instanceof PyRegexError ? e.pos : -1;
    const construct = pos >= 0 ? src.slice(pos, pos + 16) : '';
    return { ok: false, error: { message: (e as Error).message, construct } };
  }
};
