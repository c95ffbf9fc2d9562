import type { Node } from './py-ast.js';

// JavaScript has no (?(name)yes|no). A conditional on group g is rewritten as two alternatives of the
// whole expression: one where g must take part (and the conditional becomes `yes`), one where g cannot
// (g replaced by a failing atom, the conditional becomes `no`). Groups in later alternatives are renamed
// `name__bN`; the matcher folds them back. Repeated groups (max > 1) holding g are refused.
export class ConditionalError extends Error {}

const FAIL: Node = { t: 'raw', text: '(?!)' };
// Each conditional doubles the expression at most; beyond this the regex would be too large to be useful.
const MAX_BRANCHES = 64;

const contains = (n: Node, g: string): boolean => {
  switch (n.t) {
    case 'seq':
      return n.items.some((i) => contains(i, g));
    case 'alt':
      return n.alts.some((i) => contains(i, g));
    case 'group':
      return n.name === g || contains(n.body, g);
    case 'quant':
      return contains(n.body, g);
    case 'cond':
      return contains(n.yes, g) || contains(n.no, g);
    default:
      return false;
  }
};

const firstCond = (n: Node): string | null => {
  switch (n.t) {
    case 'seq':
      for (const i of n.items) {
        const c = firstCond(i);
        if (c) return c;
      }
      return null;
    case 'alt':
      for (const i of n.alts) {
        const c = firstCond(i);
        if (c) return c;
      }
      return null;
    case 'group':
    case 'quant':
      return firstCond(n.body);
    case 'cond':
      return n.name;
    default:
      return null;
  }
};

const forcePresent = (n: Node, g: string): Node | null => {
  if (!contains(n, g)) return n;
  switch (n.t) {
    case 'group':
      if (n.name === g) return n;
      {
        const b = forcePresent(n.body, g);
        return b && { ...n, body: b };
      }
    case 'seq': {
      const items: Node[] = [];
      for (const i of n.items) {
        const f = forcePresent(i, g);
        if (!f) return null;
        items.push(f);
      }
      return { t: 'seq', items };
    }
    case 'alt': {
      const alts = n.alts
        .filter((a) => contains(a, g))
        .map((a) => forcePresent(a, g))
        .filter((a): a is Node => a !== null);
      return alts.length ? { t: 'alt', alts } : null;
    }
    case 'quant': {
      if (n.max > 1) throw new ConditionalError(`conditional on group "${g}" inside a repetition`);
      return forcePresent(n.body, g);
    }
    case 'cond':
      return { ...n, yes: forcePresent(n.yes, g) ?? FAIL, no: forcePresent(n.no, g) ?? FAIL };
    default:
      return n;
  }
};

// The tree with f's replacements (f returns undefined to go on into a node); a node none of whose parts changed is
// returned as is (nodes are never changed in place), so that a pass over a large regex allocates only what it
// replaces.
const map = (n: Node, f: (n: Node) => Node | undefined): Node => {
  const r = f(n);
  if (r) return r;
  switch (n.t) {
    case 'seq': {
      const items = mapAll(n.items, f);
      return items === n.items ? n : { t: 'seq', items };
    }
    case 'alt': {
      const alts = mapAll(n.alts, f);
      return alts === n.alts ? n : { t: 'alt', alts };
    }
    case 'group':
    case 'quant': {
      const body = map(n.body, f);
      return body === n.body ? n : { ...n, body };
    }
    case 'cond': {
      const yes = map(n.yes, f);
      const no = map(n.no, f);
      return yes === n.yes && no === n.no ? n : { ...n, yes, no };
    }
    default:
      return n;
  }
};
const mapAll = (ns: Node[], f: (n: Node) => Node | undefined): Node[] => {
  let out: Node[] | null = null;
  for (let i = 0; i < ns.length; i++) {
    const m = map(ns[i] as Node, f);
    if (out === null && m !== ns[i]) out = ns.slice(0, i);
    out?.push(m);
  }
  return out ?? ns;
};

const resolve = (n: Node, g: string, present: boolean): Node =>
  map(n, (x) => (x.t === 'cond' && x.name === g ? resolve(present ? x.yes : x.no, g, present) : undefined));

const groupNames = (n: Node, out: Set<string>): Set<string> => {
  map(n, (x) => {
    if (x.t === 'group' && x.name) out.add(x.name);
    return undefined;
  });
  return out;
};

const expand = (n: Node, names: ReadonlySet<string>): Node[] => {
  const g = firstCond(n);
  if (!g) return [n];
  if (!names.has(g))
    throw new ConditionalError(
      /^\d+$/.test(g) ? `conditional on a numbered group (${g})` : `conditional on unknown group "${g}"`,
    );
  const out: Node[] = [];
  const p = forcePresent(n, g);
  if (p) out.push(...expand(resolve(p, g, true), names));
  const a = resolve(
    map(n, (x) => (x.t === 'group' && x.name === g ? FAIL : undefined)),
    g,
    false,
  );
  if (out.length > MAX_BRANCHES)
    throw new ConditionalError(`too many conditionals (more than ${MAX_BRANCHES} alternatives)`);
  out.push(...expand(a, names));
  if (out.length > MAX_BRANCHES)
    throw new ConditionalError(`too many conditionals (more than ${MAX_BRANCHES} alternatives)`);
  return out;
};

const rename = (n: Node, suffix: string): Node =>
  map(n, (x) => {
    if (x.t === 'group' && x.name) return { ...x, name: x.name + suffix, body: rename(x.body, suffix) };
    if (x.t === 'raw' && x.text.startsWith('\\k<')) return { t: 'raw', text: x.text.replace(/>$/, `${suffix}>`) };
    return undefined;
  });

export const BRANCH_SUFFIX_RE = /__b\d+$/;

// Returns the node unchanged when it has no conditional.
export const expandConditionals = (n: Node): Node => {
  const names = groupNames(n, new Set());
  const branches = expand(n, names);
  if (branches.length > MAX_BRANCHES)
    throw new ConditionalError(`too many conditionals: ${branches.length} alternatives (at most ${MAX_BRANCHES})`);
  if (branches.length === 1) return branches[0] as Node;
  return {
    t: 'alt',
    alts: branches
      .map((b, i) => (i === 0 ? b : rename(b, `__b${i}`)))
      .map((b) => ({ t: 'group', kind: 'noncap', body: b })),
  };
};
