import { closest, diag, type Diagnostic } from '../../core/diagnostics.js';
import { parseDurationSec } from '../../core/duration.js';
import type { Pos, YNode } from './yaml-tree.js';

// Strict readers over YNode: every problem becomes a Diagnostic with file:line:col and a dotted path.
export class Fields {
  readonly errors: Diagnostic[] = [];
  error(pos: Pos, path: string, message: string): void {
    this.errors.push(diag(pos.file, pos.line, message, path, pos.col));
  }

  // The entries of a mapping, refusing keys not in `known` (with a "did you mean").
  map(node: YNode, path: string, known: readonly string[]): Map<string, YNode> {
    const out = new Map<string, YNode>();
    if (node.kind !== 'map') {
      this.error(node.pos, path, `expected a mapping, got a ${describe(node)}`);
      return out;
    }
    for (const e of node.entries) {
      const p = path ? `${path}.${e.key}` : e.key;
      if (known.length > 0 && !known.includes(e.key)) {
        const hint = closest(e.key, known);
        this.error(e.keyPos, p, `unknown key "${e.key}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
        continue;
      }
      if (out.has(e.key)) {
        this.error(e.keyPos, p, `duplicate key "${e.key}"`);
        continue;
      }
      out.set(e.key, e.value);
    }
    return out;
  }
  scalar(node: YNode, path: string): string | null {
    if (node.kind === 'scalar') return node.text;
    this.error(node.pos, path, `expected a value, got a ${describe(node)}`);
    return null;
  }
  string(node: YNode | undefined, path: string, dflt: string): string {
    return node ? (this.scalar(node, path) ?? dflt) : dflt;
  }
  int(node: YNode | undefined, path: string, dflt: number, min = 0): number {
    if (!node) return dflt;
    const t = this.scalar(node, path);
    if (t === null) return dflt;
    if (!/^-?\d+$/.test(t.trim()) || Number(t) < min) {
      this.error(node.pos, path, `expected an integer >= ${min}, got "${t}"`);
      return dflt;
    }
    return Number(t);
  }
  number(node: YNode | undefined, path: string, dflt: number): number {
    if (!node) return dflt;
    const t = this.scalar(node, path);
    if (t === null) return dflt;
    if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(t.trim())) {
      this.error(node.pos, path, `expected a number, got "${t}"`);
      return dflt;
    }
    return Number(t);
  }
  bool(node: YNode | undefined, path: string, dflt: boolean): boolean {
    if (!node) return dflt;
    const t = this.scalar(node, path)?.toLowerCase();
    if (t === undefined) return dflt;
    if (['true', 'yes', 'on', '1'].includes(t)) return true;
    if (['false', 'no', 'off', '0'].includes(t)) return false;
    this.error(node.pos, path, `expected true or false, got "${t}"`);
    return dflt;
  }
  // Seconds: 600, "10m", "1h30m", "1w"; -1 is permanent only where `permanent` is allowed.
  duration(node: YNode | undefined, path: string, dflt: number, permanent = false): number {
    if (!node) return dflt;
    const t = this.scalar(node, path);
    if (t === null) return dflt;
    const sec = parseDurationSec(t);
    if (sec === null || (sec < 0 && !permanent)) {
      this.error(
        node.pos,
        path,
        `expected a duration (seconds or units s m h d w${permanent ? ', -1 for permanent' : ''}), got "${t}"`,
      );
      return dflt;
    }
    return sec;
  }
  // A list of strings; a single scalar is a one-item list; commas and spaces split scalars when `split`.
  list(node: YNode | undefined, path: string, split = false): { text: string; pos: Pos }[] {
    if (!node) return [];
    const items = node.kind === 'seq' ? node.items : [node];
    const out: { text: string; pos: Pos }[] = [];
    items.forEach((it, i) => {
      const t = this.scalar(it, node.kind === 'seq' ? `${path}[${i}]` : path);
      if (t === null) return;
      for (const part of split ? t.split(/[\s,]+/) : [t]) if (part !== '') out.push({ text: part, pos: it.pos });
    });
    return out;
  }
}

const describe = (n: YNode): string => (n.kind === 'map' ? 'mapping' : n.kind === 'seq' ? 'list' : `value "${n.text}"`);
