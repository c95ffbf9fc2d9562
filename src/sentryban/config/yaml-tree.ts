import { EVENT_ID, getScalarValue, parseEvents, type Event } from 'js-yaml';
import { diag, fail, ok, type Result } from '../../core/diagnostics.js';

// YAML read into a tree that remembers where each node starts, so semantic errors can say file:line:col.
// Scalars stay text (with whether they were quoted); each field converts its own, strictly.
export type Pos = { file: string; line: number; col: number };
export type YNode =
  | { kind: 'scalar'; text: string; quoted: boolean; pos: Pos }
  | { kind: 'seq'; items: YNode[]; pos: Pos }
  | { kind: 'map'; entries: { key: string; keyPos: Pos; value: YNode }[]; pos: Pos };

const lineIndex = (src: string): number[] => {
  const starts = [0];
  for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
};

const posAt = (file: string, starts: number[], offset: number): Pos => {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { file, line: lo + 1, col: offset - (starts[lo] ?? 0) + 1 };
};

export const parseYamlTree = (src: string, file: string): Result<YNode | null> => {
  let events: Event[];
  try {
    events = parseEvents(src, { filename: file });
  } catch (e) {
    const mark = (e as { mark?: { line?: number; column?: number } }).mark;
    const reason = (e as { reason?: string }).reason ?? (e as Error).message;
    return fail([diag(file, (mark?.line ?? -1) + 1, `YAML syntax: ${reason}`, '', (mark?.column ?? -1) + 1)]);
  }
  const starts = lineIndex(src);
  let i = 0;
  const build = (): YNode => {
    const ev = events[i++] as Event;
    if (ev.type === EVENT_ID.SCALAR) {
      return {
        kind: 'scalar',
        text: getScalarValue(src, ev),
        quoted: ev.style !== 1,
        pos: posAt(file, starts, ev.valueStart),
      };
    }
    if (ev.type === EVENT_ID.SEQUENCE) {
      const items: YNode[] = [];
      while ((events[i] as Event).type !== EVENT_ID.POP) items.push(build());
      i++;
      return { kind: 'seq', items, pos: posAt(file, starts, ev.start) };
    }
    if (ev.type === EVENT_ID.MAPPING) {
      const entries: { key: string; keyPos: Pos; value: YNode }[] = [];
      while ((events[i] as Event).type !== EVENT_ID.POP) {
        const k = build();
        const v = build();
        const key = k.kind === 'scalar' ? k.text : '?';
        entries.push({ key, keyPos: k.pos, value: v });
      }
      i++;
      return { kind: 'map', entries, pos: posAt(file, starts, ev.start) };
    }
    throw new Error('YAML aliases are not supported in config files');
  };
  try {
    while (i < events.length && (events[i] as Event).type !== EVENT_ID.DOCUMENT) i++;
    if (i >= events.length) return ok(null);
    i++;
    if (events[i]?.type === EVENT_ID.POP || i >= events.length) return ok(null);
    return ok(build());
  } catch (e) {
    return fail([diag(file, 1, (e as Error).message)]);
  }
};
