import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// The import graph of src/**/*.ts, read with the compiler's own pre-processor: every `import`, `import type`,
// `export ... from` and dynamic `import('...')` of a relative specifier (`.js` read as the `.ts` beside it).
// The rules a newcomer must keep (docs/layout.md): no circle; control/ never reaches into daemon/ (the daemon
// implements what control/controlled.ts asks for); config/ returns data, so it imports no matcher and no daemon.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const sourcesUnder = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourcesUnder(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : [],
  );

// The files one file imports (paths relative to the repository, with /), in the order written, once each.
const importsOf = (file: string, text: string): string[] => {
  const deps: string[] = [];
  for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
    if (!ref.fileName.startsWith('.')) continue;
    const target = join(dirname(file), ref.fileName).replace(/\.js$/, '.ts');
    if (!deps.includes(target)) deps.push(target);
  }
  return deps;
};

const importGraph = (files: readonly string[]): Map<string, string[]> => {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const deps = importsOf(file, readFileSync(join(ROOT, file), 'utf8'));
    for (const d of deps) if (!known.has(d)) throw new Error(`${file}: imports ${d}, which is no file of src/`);
    graph.set(file, deps);
  }
  return graph;
};

// Every circle (a strongly connected component of more than one file, or a file importing itself), each printed
// as a path that closes on its first file: a.ts -> b.ts -> a.ts.
const circles = (graph: ReadonlyMap<string, readonly string[]>): string[] => {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const sccs: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      scc.push(w);
      if (w === v) break;
    }
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) sccs.push(scc);
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  // One path around each component: from its first file, breadth-first back to that file.
  return sccs.map((scc) => {
    const inside = new Set(scc);
    const start = [...scc].sort()[0]!;
    const from = new Map<string, string>();
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      const v = queue[i]!;
      for (const w of graph.get(v) ?? []) {
        if (!inside.has(w)) continue;
        if (w === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(from.get(path[0]!)!);
          return [...path, start].join(' -> ');
        }
        if (!from.has(w) && w !== start) {
          from.set(w, v);
          queue.push(w);
        }
      }
    }
    return scc.join(' <-> ');
  });
};

// The ways from the files under `from` to those under `to`, directly or through other files: the shortest path to
// each file reached, printed a.ts -> b.ts -> c.ts.
const paths = (graph: ReadonlyMap<string, readonly string[]>, from: string, to: readonly string[]): string[] => {
  const cameFrom = new Map<string, string | null>();
  const queue = [...graph.keys()].filter((f) => f.startsWith(from)).sort();
  for (const f of queue) cameFrom.set(f, null);
  for (let i = 0; i < queue.length; i++)
    for (const w of graph.get(queue[i]!) ?? [])
      if (!cameFrom.has(w)) {
        cameFrom.set(w, queue[i]!);
        queue.push(w);
      }
  return queue
    .filter((f) => to.some((t) => f.startsWith(t)))
    .map((f) => {
      const path = [f];
      for (let p = cameFrom.get(f); p != null; p = cameFrom.get(p)) path.unshift(p);
      return path.join(' -> ');
    });
};

describe('the import graph of src/', () => {
  const graph = importGraph(sourcesUnder('src'));

  it('holds every file of src/', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('src/sentryban/daemon.ts')).toContain('src/sentryban/control/server.ts');
  });

  it('has no circle', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('has no way from control/ into daemon/ (the daemon implements control/controlled.ts)', () => {
    expect(paths(graph, 'src/sentryban/control/', ['src/sentryban/daemon/', 'src/sentryban/daemon.ts'])).toEqual([]);
  });

  it('config/ returns data: it reaches no matcher and nothing of the daemon, not even through other files', () => {
    expect(
      paths(graph, 'src/sentryban/config/', [
        'src/sentryban/filters/matcher.ts',
        'src/sentryban/daemon/',
        'src/sentryban/daemon.ts',
      ]),
    ).toEqual([]);
  });
});

describe('the graph reader', () => {
  it('finds a way through other files, the shortest one', () => {
    const g = new Map([
      ['x/a.ts', ['x/b.ts', 'y/c.ts']],
      ['x/b.ts', ['y/c.ts']],
      ['y/c.ts', ['z/d.ts']],
      ['z/d.ts', []],
    ]);
    expect(paths(g, 'x/', ['z/'])).toEqual(['x/a.ts -> y/c.ts -> z/d.ts']);
    expect(paths(g, 'y/', ['x/'])).toEqual([]);
  });

  it('counts every kind of import: type-only, re-exports, side effects and dynamic ones', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b/b.js';",
      "import { type C } from './c.js';",
      "export { d } from './d.js';",
      "export type { E } from './e.js';",
      "export * from './f.js';",
      "import './g.js';",
      "const h = await import('./h.js');",
      "import { readFileSync } from 'node:fs';",
      "import { a as again } from './a.js';",
    ].join('\n');
    expect(importsOf('src/x/y.ts', text)).toEqual(
      ['x/a', 'b/b', 'x/c', 'x/d', 'x/e', 'x/f', 'x/g', 'x/h'].map((f) => `src/${f}.ts`),
    );
  });

  it('prints each circle as a closed path, and finds a file importing itself', () => {
    const g = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []],
      ['e.ts', ['e.ts']],
    ]);
    expect(circles(g)).toEqual(['a.ts -> b.ts -> c.ts -> a.ts', 'e.ts -> e.ts']);
    expect(circles(new Map([['a.ts', ['b.ts']]]))).toEqual([]);
  });
});
