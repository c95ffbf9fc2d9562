// bantime.formula and bantime.factor are Python expressions in fail2ban. We accept the arithmetic subset users
// write (numbers, ban.Time, ban.Count, banFactor, + - * / // % ** << >> & |, comparisons, and/or/not,
// `a if c else b`, min/max/abs/int/float/round) and compile it once at load; anything else is refused by name.

export type Vars = Readonly<Record<string, number>>;
export type Formula = { text: string; evaluate(vars: Vars): number };
export type FormulaResult = { ok: true; formula: Formula } | { ok: false; message: string };

type Node = (vars: Vars) => number;
type Tok = { kind: 'num' | 'name' | 'op'; text: string };

const FUNCS: Record<string, (...a: number[]) => number> = {
  min: Math.min,
  max: Math.max,
  abs: Math.abs,
  int: Math.trunc,
  float: (x) => x,
  round: (x) => {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  },
};
const OPS = [
  '**',
  '//',
  '<<',
  '>>',
  '<=',
  '>=',
  '==',
  '!=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '<',
  '>',
  '(',
  ')',
  ',',
  '&',
  '|',
  '^',
];

const tokenize = (text: string): Tok[] | string => {
  const toks: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(text.slice(i));
    if (num) {
      toks.push({ kind: 'num', text: num[0] });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(text.slice(i));
    if (name) {
      toks.push({ kind: 'name', text: name[0] });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (!op) return `unexpected "${c}" at column ${i + 1}`;
    toks.push({ kind: 'op', text: op });
    i += op.length;
  }
  return toks;
};

const BINARY: [string[], (a: number, b: number) => number][][] = [
  [[['or'], (a, b) => (a ? a : b)]],
  [[['and'], (a, b) => (a ? b : a)]],
  [
    [['<'], (a, b) => +(a < b)],
    [['<='], (a, b) => +(a <= b)],
    [['>'], (a, b) => +(a > b)],
    [['>='], (a, b) => +(a >= b)],
    [['=='], (a, b) => +(a === b)],
    [['!='], (a, b) => +(a !== b)],
  ],
  [[['|'], (a, b) => a | b]],
  [[['^'], (a, b) => a ^ b]],
  [[['&'], (a, b) => a & b]],
  [
    [['<<'], (a, b) => a * 2 ** b],
    [['>>'], (a, b) => Math.floor(a / 2 ** b)],
  ],
  [
    [['+'], (a, b) => a + b],
    [['-'], (a, b) => a - b],
  ],
  [
    [['*'], (a, b) => a * b],
    [['/'], (a, b) => a / b],
    [['//'], (a, b) => Math.floor(a / b)],
    [['%'], (a, b) => a - b * Math.floor(a / b)],
  ],
];

class Parser {
  #toks: Tok[];
  #i = 0;
  constructor(toks: Tok[]) {
    this.#toks = toks;
  }
  peek(): Tok | undefined {
    return this.#toks[this.#i];
  }
  take(text?: string): Tok {
    const t = this.#toks[this.#i];
    if (!t || (text !== undefined && t.text !== text))
      throw new Error(`expected ${text ?? 'more'}, got ${t ? `"${t.text}"` : 'the end'}`);
    this.#i++;
    return t;
  }
  done(): boolean {
    return this.#i >= this.#toks.length;
  }
  expr(): Node {
    const then = this.binary(0);
    if (this.peek()?.text !== 'if') return then;
    this.take('if');
    const cond = this.binary(0);
    this.take('else');
    const other = this.expr();
    return (v) => (cond(v) ? then(v) : other(v));
  }
  binary(level: number): Node {
    if (level === 2 && this.peek()?.text === 'not') {
      this.take();
      const x = this.binary(2);
      return (v) => +!x(v);
    }
    if (level >= BINARY.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      const op = (BINARY[level] ?? []).find(([names]) => t && names.includes(t.text));
      if (!op) return left;
      this.take();
      const right = this.binary(level + 1);
      const l = left;
      left = (v) => op[1](l(v), right(v));
    }
  }
  unary(): Node {
    const t = this.peek();
    if (t?.text === '-') {
      this.take();
      const x = this.unary();
      return (v) => -x(v);
    }
    if (t?.text === '+') {
      this.take();
      return this.unary();
    }
    const base = this.atom();
    if (this.peek()?.text === '**') {
      this.take();
      const exp = this.unary();
      return (v) => base(v) ** exp(v);
    }
    return base;
  }
  atom(): Node {
    const t = this.take();
    if (t.kind === 'num') {
      const n = Number(t.text);
      return () => n;
    }
    if (t.text === '(') {
      const e = this.expr();
      this.take(')');
      return e;
    }
    if (t.kind !== 'name') throw new Error(`unexpected "${t.text}"`);
    if (t.text === 'True' || t.text === 'False') {
      const n = t.text === 'True' ? 1 : 0;
      return () => n;
    }
    if (this.peek()?.text === '(') return this.call(t.text);
    const name = t.text;
    return (v) => {
      const x = v[name];
      if (x === undefined) throw new Error(`unknown name "${name}"`);
      return x;
    };
  }
  call(name: string): Node {
    const fn = FUNCS[name];
    if (!fn) throw new Error(`function "${name}" is not allowed (allowed: ${Object.keys(FUNCS).join(', ')})`);
    this.take('(');
    const args: Node[] = [];
    while (this.peek()?.text !== ')') {
      args.push(this.expr());
      if (this.peek()?.text === ',') this.take(',');
      else break;
    }
    this.take(')');
    return (v) => fn(...args.map((a) => a(v)));
  }
}

// Compile once; the names the expression may use are checked now, against a sample of the variables.
export const compileFormula = (text: string, names: readonly string[]): FormulaResult => {
  const toks = tokenize(text);
  if (typeof toks === 'string') return { ok: false, message: toks };
  try {
    const p = new Parser(toks);
    const node = p.expr();
    if (!p.done()) return { ok: false, message: `unexpected "${p.peek()?.text}"` };
    const sample = Object.fromEntries(names.map((n) => [n, 1]));
    node(sample);
    return { ok: true, formula: { text, evaluate: (vars) => node(vars) } };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
};
