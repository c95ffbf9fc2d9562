import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { LogPath } from '../config/jail-file.js';
import { FileSource } from '../sources/file/source.js';
import type { FollowEvent } from '../sources/file/follow.js';
import type { FilePosition, LogLine } from '../types.js';

// A jail's logpaths through the sources stage (part 1: rotation, truncation, positions), read as soon as inotify
// says a file or its folder changed, and at least every `pollMs`. Lines go out in groups of at most
// GROUP_LINES so each group (decisions + the position after its last line) is one transaction.
const GROUP_LINES = 500;

export class JailSources {
  readonly #sources: FileSource[] = [];
  readonly #watchers: FSWatcher[] = [];
  readonly #onLines: (lines: LogLine[]) => void;
  readonly #onEvent: (e: FollowEvent) => void;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(
    paths: readonly LogPath[],
    positions: ReadonlyMap<string, FilePosition>,
    clock: Clock,
    onLines: (lines: LogLine[]) => void,
    onEvent: (e: FollowEvent) => void = () => {},
  ) {
    this.#onLines = onLines;
    this.#onEvent = onEvent;
    for (const lp of paths)
      this.#sources.push(new FileSource({ patterns: [lp.path], fromStart: !lp.tail, positions, clock }));
    for (const p of new Set(paths.flatMap((lp) => [lp.path, dirname(lp.path)]))) {
      if (/[*?[]/.test(p)) continue;
      try {
        const w = watch(p, { persistent: false }, () => this.poll());
        w.on('error', () => w.close());
        this.#watchers.push(w);
      } catch {
        /* absent for now: the timer finds it when it appears */
      }
    }
  }

  start(pollMs = 1000): void {
    this.poll();
    this.#timer = setInterval(() => this.poll(), pollMs);
    this.#timer.unref();
  }

  poll(): void {
    if (this.#stopped) return;
    for (const s of this.#sources) {
      const { lines, events } = s.poll();
      events.forEach(this.#onEvent);
      for (let i = 0; i < lines.length; i += GROUP_LINES) this.#onLines(lines.slice(i, i + GROUP_LINES));
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const w of this.#watchers) w.close();
    for (const s of this.#sources) s.stop();
  }
}
