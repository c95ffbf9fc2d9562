import type { Clock } from '../../../core/clock.js';
import type { FilePosition, LogLine } from '../../types.js';
import { FileFollower, type FollowEvent } from './follow.js';
import { expandGlob } from './glob.js';

export type FileSourceOptions = {
  patterns: readonly string[]; // paths or globs (fail2ban's logpath lines)
  fromStart?: boolean;
  positions?: ReadonlyMap<string, FilePosition>; // saved by the store, by path
  maxLineBytes?: number;
  clock: Clock;
  pollMs?: number;
};

// Every file named by the patterns, followed by polling (stat + read, no inotify: positions need byte offsets).
// Globs are re-expanded on each poll: a matching file that appears later is read from its start.
export class FileSource {
  #followers = new Map<string, FileFollower>();
  #opts: FileSourceOptions;
  #cancel: (() => void) | null = null;
  #first = true;

  constructor(opts: FileSourceOptions) {
    this.#opts = opts;
  }

  #sync(): void {
    for (const p of this.#opts.patterns) {
      const paths = expandGlob(p);
      for (const path of paths) {
        if (this.#followers.has(path)) continue;
        this.#followers.set(
          path,
          new FileFollower({
            path,
            fromStart: this.#first ? this.#opts.fromStart : true,
            position: this.#opts.positions?.get(path) ?? null,
            maxLineBytes: this.#opts.maxLineBytes,
            now: () => this.#opts.clock.now(),
          }),
        );
      }
    }
    this.#first = false;
  }

  poll(): { lines: LogLine[]; events: FollowEvent[] } {
    this.#sync();
    const lines: LogLine[] = [];
    const events: FollowEvent[] = [];
    // (a loop, not push(...): one poll of a big file is more lines than a call's arguments can hold)
    for (const f of this.#followers.values()) {
      for (const l of f.poll()) lines.push(l);
      events.push(...f.drainEvents());
    }
    return { lines, events };
  }

  positions(): FilePosition[] {
    return [...this.#followers.values()].map((f) => f.position).filter((p): p is FilePosition => p !== null);
  }

  // Polls every pollMs (default 1 s) on the injected clock until stop().
  start(onBatch: (b: { lines: LogLine[]; events: FollowEvent[] }) => void): void {
    const tick = (): void => {
      const b = this.poll();
      if (b.lines.length || b.events.length) onBatch(b);
      this.#cancel = this.#opts.clock.at(this.#opts.clock.now() + (this.#opts.pollMs ?? 1000), tick);
    };
    tick();
  }

  stop(): void {
    this.#cancel?.();
    this.#cancel = null;
    for (const f of this.#followers.values()) f.close();
  }
}
