import type { ClassItem, Node } from './py-ast.js';

// Backtracking into a greedy run of one character class is where crafted lines make a regex slow: in the stock
// sshd filter, `port \d+` followed by a tail that scans to the end of the line (`(?:(?! from ).)*$`) retries the
// tail once per digit given back, so a line of n digits costs n^2. JavaScript has no possessive quantifier or
// atomic group; `(?=(X+))\k<g>` is one (a lookahead is never re-entered). This pass makes a greedy
// one-character run possessive only where that provably cannot change the match: when no match can exist with
// the run shorter unless one exists with the run at its longest, which the engine tries first, so it finds
// exactly the match it found before. The proof walks what may follow the run (see `safeAfter`) and holds only
// without backreferences, so a pattern with any is left alone, as is a case-insensitive or multiline one.

// A set of UTF-16 code units: ASCII exactly, the rest as none / some / all.
type Wide = 'none' | 'some' | 'all';
type CharSet = { ascii: boolean[]; wide: Wide };
type First = { set: CharSet; nullable: boolean }; // chars a non-empty match may start with; can it match empty

// (a plain loop: Array.from({ length: 128 }, ...) made filter loading several times slower, run for every node)
const make = (pred: (c: number) => boolean, wide: Wide): CharSet => {
  const ascii = new Array<boolean>(128);
  for (let c = 0; c < 128; c++) ascii[c] = pred(c);
  return { ascii, wide };
};
// One character's set, made once per character (sets are never changed).
const charSets = new Map<string, CharSet>();
const charSet = (ch: string): CharSet => {
  let s = charSets.get(ch);
  if (s === undefined) {
    const code = ch.charCodeAt(0);
    s = make((c) => c === code, code > 127 ? 'some' : 'none');
    charSets.set(ch, s);
  }
  return s;
};
const EMPTY = make(() => false, 'none');
const ANY = make(() => true, 'all');
const ANY_BUT_NEWLINE = make((c) => c !== 10, 'all');
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isWord = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isSpace = (c: number): boolean => (c >= 9 && c <= 13) || c === 32;
const invert = (w: Wide): Wide => (w === 'none' ? 'all' : w === 'all' ? 'none' : 'some');
const complement = (s: CharSet): CharSet => ({ ascii: s.ascii.map((b) => !b), wide: invert(s.wide) });
const union = (a: CharSet, b: CharSet): CharSet => ({
  ascii: a.ascii.map((x, i) => x || (b.ascii[i] ?? false)),
  wide: a.wide === 'all' || b.wide === 'all' ? 'all' : a.wide === 'none' && b.wide === 'none' ? 'none' : 'some',
});
const disjoint = (a: CharSet, b: CharSet): boolean =>
  !a.ascii.some((x, i) => x && b.ascii[i]) && (a.wide === 'none' || b.wide === 'none');
const has = (s: CharSet, ch: string): boolean => s.ascii[ch.charCodeAt(0)] ?? false;

// JavaScript's meaning without the u flag: \d and \w are ASCII, \s also takes some wide spaces.
const ESCAPES: Record<string, CharSet> = {
  '\\d': make(isDigit, 'none'),
  '\\w': make(isWord, 'none'),
  '\\s': make(isSpace, 'some'),
};
const escapeSet = (esc: string): CharSet | null => {
  const base = ESCAPES[esc.toLowerCase()];
  if (!base) return null;
  return esc === esc.toLowerCase() ? base : complement(base);
};

const classSet = (negate: boolean, items: readonly ClassItem[]): CharSet | null => {
  let s = EMPTY;
  for (const it of items) {
    if ('esc' in it) {
      const e = escapeSet(it.esc);
      if (!e) return null;
      s = union(s, e);
      continue;
    }
    if (it.lo.length !== 1 || it.hi.length !== 1) return null;
    const lo = it.lo.charCodeAt(0);
    const hi = it.hi.charCodeAt(0);
    s = union(
      s,
      make((c) => c >= lo && c <= hi, hi > 127 ? 'some' : 'none'),
    );
  }
  return negate ? complement(s) : s;
};

type Flags = { dotAll: boolean; serial: number }; // serial: the last possessive group's number

// The set of one character a node always consumes exactly one of, or null.
const oneChar = (n: Node, f: Flags): CharSet | null => {
  switch (n.t) {
    case 'char':
      return n.ch.length === 1 ? charSet(n.ch) : null;
    case 'class':
      return classSet(n.negate, n.items);
    case 'dot':
      return f.dotAll ? ANY : ANY_BUT_NEWLINE;
    case 'raw':
      return escapeSet(n.text);
    default:
      return null;
  }
};

// What a node's non-empty matches may start with, and whether it can match empty at any position; null when
// unknown (assertions, backreferences, case-insensitive groups: the caller then assumes the worst).
const first = (n: Node, f: Flags): First | null => {
  const one = oneChar(n, f);
  if (one) return { set: one, nullable: false };
  switch (n.t) {
    case 'seq': {
      let set = EMPTY;
      for (const it of n.items) {
        const x = first(it, f);
        if (!x) return null;
        set = union(set, x.set);
        if (!x.nullable) return { set, nullable: false };
      }
      return { set, nullable: true };
    }
    case 'alt': {
      let set = EMPTY;
      let nullable = false;
      for (const a of n.alts) {
        const x = first(a, f);
        if (!x) return null;
        set = union(set, x.set);
        nullable ||= x.nullable;
      }
      return { set, nullable };
    }
    case 'group':
      return n.kind === 'look' || n.ci !== undefined ? null : first(n.body, f);
    case 'quant': {
      const x = first(n.body, f);
      return x && { set: x.set, nullable: x.nullable || n.min === 0 };
    }
    default:
      return null;
  }
};

// A run that consumes one character per step and tests only the text (lookarounds) on the way: `C*`,
// `(?:(?!L).)*`. If it can consume [p, e) it can consume [q, e) for any p <= q <= e.
const isLookaround = (n: Node): boolean => n.t === 'group' && n.kind === 'look';
const oneStep = (n: Node, f: Flags): boolean => {
  if (oneChar(n, f)) return true;
  if (n.t === 'group' && n.kind !== 'look' && n.ci === undefined) return oneStep(n.body, f);
  if (n.t !== 'seq') return false;
  const steps = n.items.filter((i) => !isLookaround(i));
  return steps.length === 1 && oneStep(steps[0] as Node, f);
};
const isAbsorber = (n: Node, f: Flags): boolean => {
  if (n.t === 'group' && n.kind !== 'look' && n.ci === undefined) return isAbsorber(n.body, f);
  return n.t === 'quant' && n.min === 0 && oneStep(n.body, f);
};

// What follows a node, innermost first: the rest of a sequence, another turn of a repeat, or the end of a
// lookaround (unknown ground: stop). null is the end of the pattern.
type Cont =
  | { k: 'seq'; items: readonly Node[]; from: number; next: Cont }
  | { k: 'rep'; body: Node; next: Cont }
  | { k: 'stop' }
  | null;

// May a run of characters from `s`, given back by one or more, let the rest match where the full run could
// not? Say the run ends at q at its longest and at p < q given back: the text at p is a character of `s`.
// Walking what follows from p: an item that can match empty and cannot start with a character of `s` matches
// empty there (and can at q too); one that cannot match empty fails there, so giving back fails: safe. An
// absorber (`isAbsorber`) may eat the given-back characters and stop at some e; from q it reaches the same e
// if e >= q, and e < q puts a character of `s` next, so the same walk continues from e. The end of the line
// (`$`, never before a character of `s` when `s` has no newline) or of the text, or the end of the pattern,
// is safe. Anything else is unknown: not safe.
// The answer: UNSAFE; SAFE; or ABSORBED, safe where an absorber may re-scan what is given back: the case that
// costs n^2 and the only one made possessive (elsewhere giving back fails at once, and the emulation's lookahead
// and backreference cost more than they save, about 15% on an ordinary sshd log).
const UNSAFE = -1;
const SAFE = 0;
const ABSORBED = 1;
type Verdict = typeof UNSAFE | typeof SAFE | typeof ABSORBED;

const safeAfter = (s: CharSet, cont: Cont, f: Flags, abs: boolean): Verdict => {
  if (cont === null) return abs ? ABSORBED : SAFE;
  if (cont.k === 'stop') return UNSAFE;
  if (cont.k === 'rep') {
    const x = first(cont.body, f);
    return x && !x.nullable && disjoint(x.set, s) ? safeAfter(s, cont.next, f, abs) : UNSAFE;
  }
  return safeItems(s, cont.items, cont.from, cont.next, f, abs);
};

const safeItems = (s: CharSet, items: readonly Node[], from: number, next: Cont, f: Flags, abs: boolean): Verdict => {
  for (let i = from; i < items.length; i++) {
    const it = items[i] as Node;
    if (it.t === 'eol') return has(s, '\n') ? UNSAFE : abs ? ABSORBED : SAFE;
    if (it.t === 'eos') return abs ? ABSORBED : SAFE;
    const x = first(it, f);
    if (x && disjoint(x.set, s)) {
      if (!x.nullable) return abs ? ABSORBED : SAFE;
      continue;
    }
    if (isAbsorber(it, f)) {
      abs = true;
      continue;
    }
    const rest = items.slice(i + 1);
    // A group or a sequence is walked inside; an alternation, each way through it.
    if (it.t === 'seq') return safeItems(s, [...it.items, ...rest], 0, next, f, abs);
    if (it.t === 'group' && it.kind !== 'look' && it.ci === undefined)
      return safeItems(s, [it.body, ...rest], 0, next, f, abs);
    if (it.t === 'alt') {
      let v: Verdict = SAFE;
      for (const a of it.alts) {
        const w = safeItems(s, [a, ...rest], 0, next, f, abs);
        if (w === UNSAFE) return UNSAFE;
        if (w === ABSORBED) v = ABSORBED;
      }
      return v;
    }
    return UNSAFE;
  }
  return safeAfter(s, next, f, abs);
};

export const POSSESSIVE_GROUP = /^__poss\d+$/;

const possessive = (q: Extract<Node, { t: 'quant' }>, f: Flags): Node => {
  const name = `__poss${++f.serial}`;
  return {
    t: 'seq',
    items: [
      { t: 'group', kind: 'look', look: '=', body: { t: 'group', kind: 'cap', name, body: q } },
      { t: 'raw', text: `\\k<${name}>` },
    ],
  };
};

const rewrite = (n: Node, cont: Cont, f: Flags): Node => {
  switch (n.t) {
    case 'seq':
      return {
        t: 'seq',
        items: n.items.map((it, i) => rewrite(it, { k: 'seq', items: n.items, from: i + 1, next: cont }, f)),
      };
    case 'alt':
      return { t: 'alt', alts: n.alts.map((a) => rewrite(a, cont, f)) };
    case 'group':
      if (n.ci !== undefined) return n;
      return { ...n, body: rewrite(n.body, n.kind === 'look' ? { k: 'stop' } : cont, f) };
    case 'quant': {
      const s = oneChar(n.body, f);
      if (s && !n.lazy && n.max === Infinity && safeAfter(s, cont, f, false) === ABSORBED) return possessive(n, f);
      return { ...n, body: rewrite(n.body, { k: 'rep', body: n.body, next: cont }, f) };
    }
    default:
      return n;
  }
};

const hasBackref = (n: Node): boolean => {
  switch (n.t) {
    case 'raw':
      return /^\\(?:[1-9]|k<)/.test(n.text);
    case 'seq':
      return n.items.some(hasBackref);
    case 'alt':
      return n.alts.some(hasBackref);
    case 'group':
    case 'quant':
      return hasBackref(n.body);
    case 'cond':
      return true;
    default:
      return false;
  }
};

// The tree with every greedy one-character run that is safe to make possessive made so (see above).
export const makePossessive = (n: Node, dotAll: boolean): Node =>
  hasBackref(n) ? n : rewrite(n, null, { dotAll, serial: 0 });
