import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { LogLine } from '../types.js';

// Lines from a stream (stdin by default), as LogLines read "now".
export async function* readLines(
  input: Readable = process.stdin,
  now: () => number = Date.now,
): AsyncGenerator<LogLine> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const text of rl) yield { text, source: 'stdin', at: now() };
}
