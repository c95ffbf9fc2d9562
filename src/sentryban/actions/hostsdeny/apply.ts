import { chown, open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ActionBackend, ActionOutcome, Ban } from '../../types.js';
import type { HostsDenySpec } from '../spec.js';
import { OK, failed } from '../runner.js';
import { Serial } from '../../../core/serial.js';
import { withFileLock } from './lock.js';
import { parseHostsFile, planLine, renderHostsFile } from './plan.js';
import { listed, repairedOutcome } from '../repaired.js';
import { diffLines, wantedLines } from './check.js';

// hosts.deny (tcp_wrappers): our lines in a marked block per jail, rewritten atomically (temp file, fsync,
// rename) under a lock file; lines outside the block are never changed.
export class HostsDenyBackend implements ActionBackend {
  readonly name: string;
  readonly #spec: HostsDenySpec;
  readonly #serial = new Serial();
  readonly #lockTimeoutMs: number;

  constructor(spec: HostsDenySpec, opts: { lockTimeoutMs?: number } = {}) {
    this.#spec = spec;
    this.name = `hostsdeny:${spec.jail}`;
    this.#lockTimeoutMs = opts.lockTimeoutMs ?? 10000;
  }

  start(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.#edit(() => wantedLines(this.#spec.daemonList, bans));
  }
  check(bans: readonly Ban[]): Promise<ActionOutcome> {
    let diff: { missing: string[]; stray: string[] } = { missing: [], stray: [] };
    const want = wantedLines(this.#spec.daemonList, bans);
    return this.#edit((cur) => {
      diff = diffLines(cur, want);
      return want;
    }).then((o) =>
      o.ok ? repairedOutcome([listed('restored', diff.missing), listed('removed stray', diff.stray)]) : o,
    );
  }

  ban(ban: Ban): Promise<ActionOutcome> {
    const line = planLine(this.#spec.daemonList, ban.target);
    return this.#edit((cur) => (cur.includes(line) ? cur : [...cur, line]));
  }

  unban(ban: Ban): Promise<ActionOutcome> {
    const line = planLine(this.#spec.daemonList, ban.target);
    return this.#edit((cur) => cur.filter((l) => l !== line));
  }

  // Read, change our block, write back only when something changed.
  #edit(change: (current: string[]) => string[]): Promise<ActionOutcome> {
    return this.#serial.run(async () => {
      const file = this.#spec.file;
      try {
        const path = await realpath(file).catch(() => file);
        return await withFileLock(`${path}.lock`, this.#lockTimeoutMs, async () => {
          const text = await readFile(path, 'latin1').catch((e: NodeJS.ErrnoException) => {
            if (e.code === 'ENOENT') return '';
            throw e;
          });
          const parsed = parseHostsFile(text, this.#spec.jail);
          const next = renderHostsFile(parsed, change(parsed.lines), this.#spec.jail);
          if (next !== text) await writeAtomically(path, next);
          return OK;
        });
      } catch (e) {
        return failed(this.name, ['write', file], null, String((e as Error).message ?? e));
      }
    });
  }
}

// Same directory temp file so rename is atomic; mode and owner follow the file being replaced.
const writeAtomically = async (path: string, text: string): Promise<void> => {
  const old = await stat(path).catch(() => null);
  const tmp = join(dirname(path), `.${basename(path)}.sentryban-${process.pid}-${randomBytes(4).toString('hex')}`);
  const h = await open(tmp, 'wx', old ? old.mode & 0o7777 : 0o644);
  try {
    await h.chmod(old ? old.mode & 0o7777 : 0o644);
    await h.writeFile(text, 'latin1');
    await h.sync();
    await h.close();
    if (old && process.getuid?.() === 0) await chown(tmp, old.uid, old.gid).catch(() => {});
    await rename(tmp, path);
  } catch (e) {
    await h.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
};
