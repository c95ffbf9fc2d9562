import type { Readable } from 'node:stream';
import { EX_CONFIG, formatDiagnostic } from '../../core/diagnostics.js';
import { releaseOptimizer } from '../../core/start-up-jit.js';
import type { Addr } from '../../core/addr.js';
import { loadConfig } from '../config/load.js';
import type { LoadedJail } from '../config/loaded.js';
import type { Failure } from '../types.js';
import { EX_DATAERR, EX_IOERR, EX_NOINPUT, EX_USAGE, type ReplayOptions } from './replay-options.js';
import { FeedReader, ReplayFeed, lineRef, type Batch, type FedLine } from './replay-feed.js';
import { LineCursor, openInputs } from './replay-input.js';
import { ReplayJails, type LineRef } from './replay-jails.js';
import { JsonPrinter, TextPrinter, type ReplayPrinter } from './replay-output.js';
import type { Progress } from './replay-progress.js';
import { feedStartOf, pickJails, threadCpu, type FeedThread } from './replay-thread.js';

// `sentryban replay` once its options are read and its worker started (replay.ts): the configuration checked, the
// inputs opened, the batches of matched lines through the jails, the timeline and summary printed.
export const checked = async (
  o: ReplayOptions,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream; stdin: Readable; isTTY: boolean },
  thread: FeedThread | null,
  startedAt: number,
  say: (s: string) => void,
): Promise<number> => {
  const { defaultConfigDir, ownAddrs } = await import('../this-host.js');
  const loaded = await loadConfig(o.configDir ?? defaultConfigDir());
  releaseOptimizer(); // held by bin/sentryban until now (main.ts): what runs from here is optimized as usual
  if (!loaded.ok) {
    for (const e of loaded.errors) io.err.write(`${formatDiagnostic(e)}\n`);
    say(`configuration refused (${loaded.errors.length} error${loaded.errors.length === 1 ? '' : 's'})`);
    return EX_CONFIG;
  }
  const all = loaded.value.jails;
  const unknown = o.jails.find((n) => !all.some((j) => j.spec.config.name === n));
  if (unknown !== undefined) {
    say(
      `no enabled jail "${unknown}" in ${loaded.value.dir} (jails: ${all.map((j) => j.spec.config.name).join(', ')})`,
    );
    return EX_USAGE;
  }
  const jails = pickJails(all, o.jails);
  if (jails.length === 0) {
    say(`no enabled jail in ${loaded.value.dir}`);
    return EX_CONFIG;
  }
  const inputs = openInputs(o.logs, io.stdin);
  if (!Array.isArray(inputs)) {
    say(`cannot read ${inputs.path}: ${inputs.reason}`);
    return EX_NOINPUT;
  }
  const cursors = inputs.map((i) => new LineCursor(i));
  const printer: ReplayPrinter = o.json ? new JsonPrinter(io.out) : new TextPrinter(io.out);
  const read = { size: cursors.reduce((n, c) => n + c.size, 0), bytesRead: 0 };
  let batches: AsyncIterable<Batch>;
  if (thread) {
    // The worker reads the files; these were opened to refuse an unreadable one before anything else.
    for (const c of cursors) c.close();
    thread.start(feedStartOf(jails));
    batches = thread.batches;
  } else {
    const feedJails = jails.map((j) => ({ filter: j.filter, command: Boolean(j.spec.config.ignore.command) }));
    batches = new ReplayFeed(cursors, feedJails, o, startedAt).batches();
  }
  // The bar's modules (cli-progress and its own) are loaded only on a terminal.
  const progress = io.isTTY ? (await import('./replay-progress.js')).startProgress([read], io.err) : null;
  try {
    return await replay(jails, cursors, batches, read, o, printer, ownAddrs(), progress, say);
  } catch (e) {
    // The file went away or failed under us, or a .gz is damaged: say so; no partial summary.
    say(`reading failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message ?? String(e)}`);
    return EX_IOERR;
  } finally {
    progress?.stop();
    threadCpu('main');
    for (const c of cursors) c.close();
  }
};

const replay = async (
  jails: readonly LoadedJail[],
  cursors: readonly LineCursor[],
  batches: AsyncIterable<Batch>,
  read: { bytesRead: number },
  o: ReplayOptions,
  printer: ReplayPrinter,
  self: Addr[],
  progress: Progress | null,
  say: (s: string) => void,
): Promise<number> => {
  const engine = new ReplayJails(jails, {
    emit: (e) => printer.event(e),
    self,
    onError: (t) => say(t),
  });
  const names = jails.map((j) => j.spec.config.name);
  const reader = new FeedReader(
    cursors.map((c) => c.name),
    jails.map((j) => j.filter.name),
  );
  // The jails from the i-th on, for one line; a promise only when an ignorecommand is asked.
  const jailsFrom = (l: FedLine, from: number, ref: LineRef | null): void | Promise<void> => {
    for (let i = from; i < names.length; i++) {
      const failures = l.found[i] as Failure[];
      if (failures.length > 0) {
        ref ??= lineRef(l, cursors[l.source]?.name as string);
      }
      const p = engine.line(names[i] as string, { failures, ref: ref as LineRef });
      if (p) return p.then(() => jailsFrom(l, i + 1, ref));
    }
  };
  for await (const b of batches) {
    await reader.read(
      b,
      (l) => {
        engine.advance(l.time);
        progress?.tick(1);
        return jailsFrom(l, 0, null);
      },
      // Lines without failures: each jail counts them; the clock moves to the latest (advance lifts each ban due
      // by then at its own time, as it would line by line).
      (lines, time) => {
        engine.advance(time);
        progress?.tick(lines);
        engine.quiet(lines);
      },
    );
    read.bytesRead = b.bytesRead;
    if (b.end?.kind === 'nodate') return noDate(b.end.message, printer, say);
    if (b.end?.kind === 'io') throw Object.assign(new Error(b.end.reason), { code: b.end.reason });
  }
  if (o.until !== null) engine.advance(o.until);
  printer.summary(
    engine.tallies().map((tally) => ({ tally, inForce: engine.inForce().filter((b) => b.jail === tally.jail) })),
  );
  printer.flush();
  return 0;
};

const noDate = (message: string, printer: ReplayPrinter, say: (s: string) => void): number => {
  printer.flush();
  say(message);
  return EX_DATAERR;
};
