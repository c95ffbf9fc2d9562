// A small parser for Python `re` syntax, enough to translate it faithfully to JavaScript or refuse.
export type Node =
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'group'; kind: 'cap' | 'noncap' | 'look'; name?: string; look?: string; ci?: boolean; body: Node }
  | { t: 'quant'; body: Node; min: number; max: number; lazy: boolean }
  | { t: 'cond'; name: string; yes: Node; no: Node }
  | { t: 'char'; ch: string } // literal character
  | { t: 'raw'; text: string } // already valid JavaScript (escapes like \d, \b, backreferences)
  | { t: 'class'; negate: boolean; items: ClassItem[] }
  | { t: 'dot' }
  | { t: 'bol' }
  | { t: 'eol' }
  | { t: 'bos' }
  | { t: 'eos' };
export type ClassItem = { lo: string; hi: string } | { esc: string };

export class PyRegexError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

export type Parsed = { node: Node; flags: { i: boolean; s: boolean; m: boolean } };

const HEX = /^[0-9a-fA-F]+$/;
const CLASS_ESC = new Set(['d', 'D', 'w', 'W', 's', 'S']);

export const parsePyRegex = (src: string): Parsed => new Parser(src).parse();

class Parser {
  #s: string;
  #i = 0;
  #flags = { i: false, s: false, m: false };
  constructor(s: string) {
    this.#s = s;
  }

  parse(): Parsed {
    const node = this.#alt();
    if (this.#i < this.#s.length) throw new PyRegexError('unbalanced parenthesis', this.#i);
    return { node, flags: this.#flags };
  }

  #peek(o = 0): string {
    return this.#s[this.#i + o] ?? '';
  }

  #alt(): Node {
    const alts: Node[] = [this.#seq()];
    while (this.#peek() === '|') {
      this.#i++;
      alts.push(this.#seq());
    }
    return alts.length === 1 ? (alts[0] as Node) : { t: 'alt', alts };
  }

  #seq(): Node {
    const items: Node[] = [];
    while (this.#i < this.#s.length && this.#peek() !== '|' && this.#peek() !== ')') {
      const atom = this.#atom();
      if (atom) items.push(this.#quant(atom));
    }
    return { t: 'seq', items };
  }

  #quant(atom: Node): Node {
    const c = this.#peek();
    let min: number;
    let max: number;
    if (c === '*') {
      min = 0;
      max = Infinity;
      this.#i++;
    } else if (c === '+') {
      min = 1;
      max = Infinity;
      this.#i++;
    } else if (c === '?') {
      min = 0;
      max = 1;
      this.#i++;
    } else if (c === '{') {
      const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(this.#s.slice(this.#i));
      if (!m || (m[1] === '' && m[2] === undefined)) return atom; // a literal "{"
      min = m[1] === '' ? 0 : Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) throw new PyRegexError('min repeat greater than max repeat', this.#i);
      this.#i += m[0].length;
    } else return atom;
    if (
      atom.t === 'bol' ||
      atom.t === 'eol' ||
      atom.t === 'bos' ||
      atom.t === 'eos' ||
      (atom.t === 'raw' && /^\\[bB]$/.test(atom.text))
    ) {
      throw new PyRegexError('nothing to repeat (quantified assertion)', this.#i);
    }
    let lazy = false;
    if (this.#peek() === '?') {
      lazy = true;
      this.#i++;
    } else if (this.#peek() === '+') throw new PyRegexError('possessive quantifier (not in JavaScript)', this.#i);
    if (/[*+?]/.test(this.#peek()) || /^\{\d*,?\d*\}/.test(this.#s.slice(this.#i)))
      throw new PyRegexError('multiple repeat', this.#i);
    return { t: 'quant', body: atom, min, max, lazy };
  }

  #atom(): Node | null {
    const c = this.#peek();
    if (c === '(') return this.#group();
    if (c === '[') return this.#class();
    if (c === '\\') return this.#escape(false) as Node;
    this.#i++;
    if (c === '.') return { t: 'dot' };
    if (c === '^') return { t: 'bol' };
    if (c === '$') return { t: 'eol' };
    if (c === '*' || c === '+' || c === '?') throw new PyRegexError('nothing to repeat', this.#i - 1);
    return { t: 'char', ch: c };
  }

  #group(): Node | null {
    const start = this.#i;
    this.#i++;
    let node: Node;
    if (this.#peek() !== '?') {
      node = { t: 'group', kind: 'cap', body: this.#alt() };
    } else {
      const rest = this.#s.slice(this.#i);
      let m: RegExpExecArray | null;
      if ((m = /^\?P<([A-Za-z_]\w*)>/.exec(rest))) {
        this.#i += m[0].length;
        node = { t: 'group', kind: 'cap', name: m[1] ?? '', body: this.#alt() };
      } else if ((m = /^\?P=([A-Za-z_]\w*)\)/.exec(rest))) {
        this.#i += m[0].length;
        return { t: 'raw', text: `\\k<${m[1]}>` };
      } else if (rest.startsWith('?:')) {
        this.#i += 2;
        node = { t: 'group', kind: 'noncap', body: this.#alt() };
      } else if ((m = /^\?(<=|<!|=|!)/.exec(rest))) {
        this.#i += m[0].length;
        node = { t: 'group', kind: 'look', look: m[1] ?? '', body: this.#alt() };
      } else if ((m = /^\?\(([A-Za-z_]\w*|\d+)\)/.exec(rest))) {
        this.#i += m[0].length;
        const yes = this.#seq();
        let no: Node = { t: 'seq', items: [] };
        if (this.#peek() === '|') {
          this.#i++;
          no = this.#seq();
        }
        if (this.#peek() === '|') throw new PyRegexError('conditional with more than two branches', this.#i);
        node = { t: 'cond', name: m[1] ?? '', yes, no };
      } else if (rest.startsWith('?#')) {
        const end = this.#s.indexOf(')', this.#i);
        if (end < 0) throw new PyRegexError('unterminated comment', start);
        this.#i = end + 1;
        return null;
      } else if ((m = /^\?([aiLmsux]+)(?:-([imsx]+))?(:|\))/.exec(rest))) {
        const on = m[1] ?? '';
        const off = m[2] ?? '';
        if (on.includes('x') || off.includes('x')) throw new PyRegexError('verbose flag (?x) is not translated', start);
        if (on.includes('L')) throw new PyRegexError('locale flag (?L) is not translated', start);
        this.#i += m[0].length;
        if (m[3] === ')') {
          if (start !== 0 && !/^(\(\?[aiLmsux]+\))+$/.test(this.#s.slice(0, start)))
            throw new PyRegexError('global flags not at the start of the expression', start);
          if (off) throw new PyRegexError('bad inline flags', start);
          if (on.includes('i')) this.#flags.i = true;
          if (on.includes('s')) this.#flags.s = true;
          if (on.includes('m')) this.#flags.m = true;
          return null;
        }
        if (/[ms]/.test(on + off)) throw new PyRegexError('scoped (?m:) / (?s:) flags are not translated', start);
        node = {
          t: 'group',
          kind: 'noncap',
          ci: on.includes('i') ? true : off.includes('i') ? false : undefined,
          body: this.#alt(),
        };
      } else if (rest.startsWith('?>'))
        throw new PyRegexError('atomic group (?>...) is not available in JavaScript', start);
      else throw new PyRegexError(`unknown extension (${rest.slice(0, 3)}`, start);
    }
    if (this.#peek() !== ')') throw new PyRegexError('missing ), unterminated subpattern', start);
    this.#i++;
    return node;
  }

  #class(): Node {
    const start = this.#i;
    this.#i++;
    let negate = false;
    if (this.#peek() === '^') {
      negate = true;
      this.#i++;
    }
    const items: ClassItem[] = [];
    let first = true;
    for (;;) {
      if (this.#i >= this.#s.length) throw new PyRegexError('unterminated character set', start);
      const c = this.#peek();
      if (c === ']' && !first) {
        this.#i++;
        break;
      }
      first = false;
      let lo: ClassItem;
      if (c === '\\') {
        lo = this.#escape(true) as ClassItem;
      } else {
        this.#i++;
        lo = { lo: c, hi: c };
      }
      if ('lo' in lo && this.#peek() === '-' && this.#peek(1) !== ']' && this.#peek(1) !== '') {
        this.#i++;
        let hi: ClassItem;
        if (this.#peek() === '\\') hi = this.#escape(true) as ClassItem;
        else {
          hi = { lo: this.#peek(), hi: this.#peek() };
          this.#i++;
        }
        if (!('lo' in hi)) throw new PyRegexError('bad character range', this.#i);
        if (hi.lo < lo.lo) throw new PyRegexError('bad character range', this.#i);
        items.push({ lo: lo.lo, hi: hi.lo });
      } else items.push(lo);
    }
    return { t: 'class', negate, items };
  }

  // Inside a class returns a ClassItem, outside a Node.
  #escape(inClass: boolean): Node | ClassItem {
    const start = this.#i;
    const c = this.#peek(1);
    if (c === '') throw new PyRegexError('bad escape (end of pattern)', start);
    this.#i += 2;
    const lit = (ch: string): Node | ClassItem => (inClass ? { lo: ch, hi: ch } : { t: 'char', ch });
    if (CLASS_ESC.has(c)) return inClass ? { esc: `\\${c}` } : { t: 'raw', text: `\\${c}` };
    if (!inClass) {
      if (c === 'b' || c === 'B') return { t: 'raw', text: `\\${c}` };
      if (c === 'A') return { t: 'bos' };
      if (c === 'Z') return { t: 'eos' };
      if (/[1-9]/.test(c)) {
        const m = /^\d{1,2}/.exec(this.#s.slice(this.#i - 1));
        this.#i += (m?.[0].length ?? 1) - 1;
        return { t: 'raw', text: `\\${m?.[0] ?? c}` };
      }
    } else if (c === 'b') return lit('\b');
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07' };
    if (simple[c] !== undefined) return lit(simple[c]);
    if (c === '0') {
      const m = /^[0-7]{0,2}/.exec(this.#s.slice(this.#i)) ?? [''];
      this.#i += m[0].length;
      return lit(String.fromCharCode(parseInt(`0${m[0]}`, 8)));
    }
    const hexLen: Record<string, number> = { x: 2, u: 4, U: 8 };
    if (hexLen[c] !== undefined) {
      const h = this.#s.slice(this.#i, this.#i + hexLen[c]);
      if (h.length !== hexLen[c] || !HEX.test(h)) throw new PyRegexError(`incomplete escape \\${c}${h}`, start);
      this.#i += h.length;
      return lit(String.fromCodePoint(parseInt(h, 16)));
    }
    if (/[A-Za-z0-9]/.test(c)) throw new PyRegexError(`bad escape \\${c}`, start);
    return lit(c);
  }
}
