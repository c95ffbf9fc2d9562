// A regex whose top level is an alternation (a conditional's expansion: sshd's `Failed ...` failregex has four
// alternatives, one per combination of its two conditions), run without the alternatives that cannot match the
// text. Each alternative is a sequence; the texts it must contain (literal runs outside any optional part,
// alternation or lookaround: every match of it has them) are read from its source. When the text lacks one of
// them, the alternative cannot match there, and it is turned off: written `(?!)ALT` in a copy of the regex, so that
// the copy numbers its groups as the regex does, and its first matching alternative (in order, at the first start
// where one matches) is the regex's. Same match, same groups; only the alternatives that fail anyway are not
// tried. (On sshd's `Failed password for root from ...` lines, three of the four fail after trying the whole
// address and port parts: 1.0 µs a line against about 0.3 µs for the one that matches.)

type Node = { texts: string[]; alts: number }; // a group's mandatory texts; how many alternatives it has

const PUNCT = '^$\\.*+?()[]{}|/-';

// Parses the source from i to its end or the ')' closing the current group: the alternatives (their source
// spans) and each one's mandatory texts. Returns null on anything it does not follow (the regex is then run as is).
const parseAlts = (
  src: string,
  i0: number,
): { spans: Array<[number, number]>; texts: string[][]; end: number } | null => {
  const spans: Array<[number, number]> = [];
  const texts: string[][] = [];
  let start = i0;
  let cur: string[] = [];
  let run = '';
  let lastWasChar = false; // the previous atom was the last character of `run`
  let lastGroupTexts = 0; // how many texts of `cur` the previous atom (a group) added
  const endRun = (): void => {
    if (run.length > 0) cur.push(run);
    run = '';
  };
  // A quantifier makes the previous atom optional or repeated: its texts are not mandatory.
  const quantified = (): void => {
    if (lastWasChar) run = run.slice(0, -1);
    else if (lastGroupTexts > 0) cur.splice(cur.length - lastGroupTexts, lastGroupTexts);
    endRun();
    lastWasChar = false;
    lastGroupTexts = 0;
  };
  let i = i0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === ')') break;
    if (c === '|') {
      endRun();
      spans.push([start, i]);
      texts.push(cur);
      cur = [];
      start = i + 1;
      i++;
      lastWasChar = false;
      lastGroupTexts = 0;
      continue;
    }
    if (c === '(') {
      endRun();
      let j = i + 1;
      let look = false;
      if (src[j] === '?') {
        const k = src[j + 1];
        if (k === ':') j += 2;
        else if (k === '=' || k === '!') {
          look = true;
          j += 2;
        } else if (k === '<' && (src[j + 2] === '=' || src[j + 2] === '!')) {
          look = true;
          j += 3;
        } else if (k === '<') {
          const close = src.indexOf('>', j);
          if (close < 0) return null;
          j = close + 1;
        } else return null;
      }
      const inner = parseAlts(src, j);
      if (inner === null || src[inner.end] !== ')') return null;
      const node: Node = {
        texts: inner.texts.length === 1 ? (inner.texts[0] as string[]) : [],
        alts: inner.spans.length,
      };
      const add = look || node.alts !== 1 ? [] : node.texts;
      cur.push(...add);
      lastGroupTexts = add.length;
      lastWasChar = false;
      i = inner.end + 1;
      continue;
    }
    if (c === '?' || c === '*' || c === '+') {
      quantified();
      i++;
      continue;
    }
    if (c === '{') {
      // Only a quantifier is followed (a literal brace may enclose anything).
      const close = src.indexOf('}', i);
      if (close < 0 || !/^\d+(?:,\d*)?$/.test(src.slice(i + 1, close))) return null;
      quantified();
      i = close + 1;
      continue;
    }
    if (c === '[') {
      endRun();
      let j = i + 1;
      if (src[j] === '^') j++;
      while (j < src.length && src[j] !== ']') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) return null;
      i = j + 1;
      lastWasChar = false;
      lastGroupTexts = 0;
      continue;
    }
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) return null;
      if (PUNCT.includes(n)) {
        run += n;
        lastWasChar = true;
        lastGroupTexts = 0;
        i += 2;
        continue;
      }
      // A class, an assertion, a backreference or a coded character: not followed (nor the letters and digits
      // after it: `\14`, `\x41`, `\u0041`, `\k<name>`).
      endRun();
      i += 2;
      while (i < src.length && /[\w<>]/.test(src[i] as string)) i++;
      lastWasChar = false;
      lastGroupTexts = 0;
      continue;
    }
    if (c === '.' || c === '^' || c === '$' || c === ']' || c === '}') {
      endRun();
      i++;
      lastWasChar = false;
      lastGroupTexts = 0;
      continue;
    }
    run += c;
    lastWasChar = true;
    lastGroupTexts = 0;
    i++;
  }
  endRun();
  spans.push([start, i]);
  texts.push(cur);
  return { spans, texts, end: i };
};

// Picks the copy of a regex to run on a text: see above. null when the regex has one alternative, flags that change
// what a literal matches (i, u, v), or no text that tells its alternatives apart.
export class AltPick {
  readonly #re: RegExp;
  readonly #alts: string[];
  readonly #checks: string[]; // the texts looked for
  readonly #need: number[]; // per alternative, the checks (bits) it needs
  readonly #copies: Array<RegExp | undefined>; // by the mask of alternatives kept
  readonly #all: number;

  private constructor(re: RegExp, alts: string[], checks: string[], need: number[]) {
    this.#re = re;
    this.#alts = alts;
    this.#checks = checks;
    this.#need = need;
    this.#all = (1 << alts.length) - 1;
    this.#copies = new Array<RegExp | undefined>(1 << alts.length);
    this.#copies[this.#all] = re;
  }

  static of(re: RegExp): AltPick | null {
    if (/[iuvgy]/.test(re.flags)) return null;
    const src = re.source;
    const p = parseAlts(src, 0);
    if (p === null || p.end !== src.length || p.spans.length < 2 || p.spans.length > 8) return null;
    const common = (p.texts[0] as string[]).filter((t) => p.texts.every((ts) => ts.includes(t)));
    const checks = [...new Set(p.texts.flat())].filter((t) => !common.includes(t));
    if (checks.length === 0 || checks.length > 8) return null;
    const need = p.texts.map((ts) => checks.reduce((m, t, b) => (ts.includes(t) ? m | (1 << b) : m), 0));
    const alts = p.spans.map(([a, b]) => src.slice(a, b));
    return new AltPick(re, alts, checks, need);
  }

  // The regex to run on text; null when no alternative can match it.
  pick(text: string): RegExp | null {
    const checks = this.#checks;
    let have = 0;
    for (let b = 0; b < checks.length; b++) if (text.includes(checks[b] as string)) have |= 1 << b;
    const need = this.#need;
    let mask = 0;
    for (let k = 0; k < need.length; k++) if (((need[k] as number) & ~have) === 0) mask |= 1 << k;
    if (mask === 0) return null;
    return this.#copies[mask] ?? this.#copy(mask);
  }

  #copy(mask: number): RegExp {
    const src = this.#alts.map((a, k) => (mask & (1 << k) ? a : `(?!)${a}`)).join('|');
    const re = new RegExp(src, this.#re.flags);
    this.#copies[mask] = re;
    return re;
  }
}

// Exported for tests: the mandatory texts of each top-level alternative of a source, null when not followed.
export const mandatoryTexts = (src: string): string[][] | null => {
  const p = parseAlts(src, 0);
  return p === null || p.end !== src.length ? null : p.texts;
};
