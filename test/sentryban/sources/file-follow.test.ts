import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { appendFileSync, copyFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTmpDir } from '../../helpers/tmp.js';
import { FileFollower } from '../../../src/sentryban/sources/file/follow.js';
import { FileSource } from '../../../src/sentryban/sources/file/source.js';
import { expandGlob } from '../../../src/sentryban/sources/file/glob.js';
import { ManualClock } from '../../../src/core/clock.js';

// Real files in a temp dir; each poll() is one step of the follower, so no sleeps are needed.
let tmp: ReturnType<typeof makeTmpDir>;
let path: string;
beforeEach(() => {
  tmp = makeTmpDir('sentryban-follow-');
  path = join(tmp.dir, 'auth.log');
});
afterEach(() => tmp.cleanup());

const texts = (f: FileFollower): string[] => f.poll().map((l) => l.text);

describe('FileFollower', () => {
  it('starts at the end by default, then hands out new complete lines only', () => {
    writeFileSync(path, 'old 1\nold 2\n');
    const f = new FileFollower({ path });
    expect(texts(f)).toEqual([]);
    appendFileSync(path, 'new 1\nnew 2\npart');
    expect(texts(f)).toEqual(['new 1', 'new 2']);
    expect(texts(f)).toEqual([]);
    appendFileSync(path, 'ial\n');
    expect(texts(f)).toEqual(['partial']);
  });

  it('reads from the start when asked', () => {
    writeFileSync(path, 'a\nb\n');
    expect(texts(new FileFollower({ path, fromStart: true }))).toEqual(['a', 'b']);
  });

  it('follows a rename rotation, draining the old file first', () => {
    writeFileSync(path, 'x\n');
    const f = new FileFollower({ path });
    texts(f);
    appendFileSync(path, 'before rotate\n');
    renameSync(path, `${path}.1`);
    appendFileSync(`${path}.1`, 'late write to old\n');
    writeFileSync(path, 'first in new\n');
    expect(texts(f)).toEqual(['before rotate', 'late write to old', 'first in new']);
    expect(f.drainEvents().map((e) => e.kind)).toEqual(['rotated']);
  });

  it('follows copytruncate and truncation', () => {
    writeFileSync(path, 'line one\nline two\n');
    const f = new FileFollower({ path });
    texts(f);
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    appendFileSync(path, 'after\n');
    expect(texts(f)).toEqual(['after']);
    expect(f.drainEvents().map((e) => e.kind)).toEqual(['truncated']);
  });

  it('notices copytruncate even when the new content is already longer than the old position', () => {
    writeFileSync(path, 'aaa\n');
    const f = new FileFollower({ path });
    texts(f);
    writeFileSync(path, 'bbbbbbbbbb 1\nbbbbbbbbbb 2\n');
    expect(texts(f)).toEqual(['bbbbbbbbbb 1', 'bbbbbbbbbb 2']);
  });

  it('waits for a file that appears later and reads it from its start', () => {
    const f = new FileFollower({ path });
    expect(texts(f)).toEqual([]);
    writeFileSync(path, 'hello\n');
    expect(texts(f)).toEqual(['hello']);
  });

  it('handles lines over 64 kB and skips lines over maxLineBytes, with an event', () => {
    const f = new FileFollower({ path, fromStart: true, maxLineBytes: 200_000 });
    writeFileSync(path, `${'a'.repeat(100_000)}\n${'b'.repeat(300_000)}\nshort\n`);
    const got = texts(f);
    expect(got.map((t) => t.length)).toEqual([100_000, 5]);
    expect(f.drainEvents()).toEqual([
      { kind: 'overlong', path, reason: 'a line over 200000 bytes ending at byte 400002 not matched' },
    ]);
  });

  // Hostile lines (docs/reliability.md): what is left of a line cut at maxLineBytes can read as another message.
  it('does not hand out the cut head of an overlong line, where an innocent address can sit at the cut', () => {
    const f = new FileFollower({ path, fromStart: true, maxLineBytes: 4096 });
    const head = 'Dec  6 00:00:01 gw sshd[1]: Invalid user x';
    const tail = ' from 192.0.2.7 port 22';
    const cut = `${head}${'a'.repeat(4096 - head.length - tail.length)}${tail}`;
    writeFileSync(path, `${cut} from 203.0.113.9 port 4242\nInvalid user y from 203.0.113.10 port 1\n`);
    expect(texts(f)).toEqual(['Invalid user y from 203.0.113.10 port 1']);
  });

  it('decodes invalid UTF-8 as U+FFFD without losing the line', () => {
    writeFileSync(
      path,
      Buffer.concat([Buffer.from('bad '), Buffer.from([0xff, 0xfe]), Buffer.from(' from 192.0.2.1\n')]),
    );
    expect(texts(new FileFollower({ path, fromStart: true }))).toEqual(['bad \uFFFD\uFFFD from 192.0.2.1']);
  });

  it('resumes at a saved position without losing or repeating a line, and re-reads a replaced file', () => {
    writeFileSync(path, 'one\ntwo\n');
    const a = new FileFollower({ path, fromStart: true });
    const lines = a.poll();
    const pos = lines.at(-1)?.position;
    expect(pos?.offset).toBe(8);
    a.close();
    appendFileSync(path, 'three\n');
    expect(texts(new FileFollower({ path, position: pos ?? null }))).toEqual(['three']);
    writeFileSync(path, 'other first line\n');
    expect(texts(new FileFollower({ path, position: pos ?? null }))).toEqual(['other first line']);
  });
});

describe('FileSource and globs', () => {
  it('expands globs and picks up a matching file created later', () => {
    writeFileSync(join(tmp.dir, 'a.log'), 'a1\n');
    const clock = new ManualClock(1000);
    const s = new FileSource({ patterns: [join(tmp.dir, '*.log')], clock, fromStart: true });
    expect(s.poll().lines.map((l) => l.text)).toEqual(['a1']);
    writeFileSync(join(tmp.dir, 'b.log'), 'b1\n');
    const b = s.poll().lines;
    expect(b.map((l) => [l.text, l.at])).toEqual([['b1', 1000]]);
    expect(expandGlob(join(tmp.dir, '[ab].log')).length).toBe(2);
    s.stop();
  });
});

describe('FileSource with a big backlog', () => {
  it('hands out 300,000 lines read in one poll (push(...lines) overflowed the call stack)', () => {
    writeFileSync(path, 'Failed password for root from 192.0.2.1 port 22 ssh2\n'.repeat(300_000));
    const s = new FileSource({ patterns: [path], clock: new ManualClock(0), fromStart: true });
    expect(s.poll().lines.length).toBe(300_000);
    s.stop();
  });
});
