import { Serial } from '../../../core/serial.js';
import type { Resident, ResidentProcess, RunResult, Runner } from '../runner.js';

// One `nft -i` kept running per runner target, fed a ban's commands on stdin: a process start costs more than the
// change itself (~16 ms of wall time with `ip netns exec` on a slow 2-core machine, ~0.3 ms a command here).
//
// Each request is one line, its commands joined by `;`, which nft runs as one transaction (as `nft -f` runs a
// file), followed by a marker line that nft cannot parse: `@@sync N`. nft reports every error on stderr with the
// offending line, so the marker's own syntax error closes the request, and whatever stderr holds before it is
// the request's: one stream carries both, in order. nft prints nothing on success.
//
// libedit keeps every line in the process's history, and nft's time per command grows with it (0.46 ms a
// command at first, 1.0 ms after 20,000), so a process serves RECYCLE_AFTER requests and is replaced (its
// successor is started at once). HOME=/dev/null keeps nft from reading or writing ~/.nft.history. A process idle
// for IDLE_END_MS ends; the next request starts another.
const ARGV = ['nft', '-i'];
const ENV = { HOME: '/dev/null' };
export const RECYCLE_AFTER = 1000;
const IDLE_END_MS = 60_000;
const MARK = '@@sync ';

type Pending = { n: number; resolve: (r: RunResult) => void; timer: NodeJS.Timeout };

export class NftSession {
  readonly #resident: Resident;
  readonly #recycleAfter: number;
  readonly #serial = new Serial();
  #proc: Promise<ResidentProcess> | null = null;
  #current: ResidentProcess | null = null;
  #served = 0;
  #seq = 0;
  #err = '';
  #pending: Pending | null = null;
  #idle: NodeJS.Timeout | null = null;
  #ended: { code: number | null; why: string } = { code: null, why: '' };

  constructor(resident: Resident, recycleAfter = RECYCLE_AFTER) {
    this.#resident = resident;
    this.#recycleAfter = recycleAfter;
  }

  // The running process's pid (tests).
  get pid(): number | undefined {
    return this.#current?.pid;
  }

  // Runs `text` (nft commands, one per line) as one transaction. exitCode 0 when nft reported nothing, 1 when it
  // reported an error (stderr holds it); when the process ended first, its exit code (null if killed or never
  // started); null with timedOut when no answer came in time.
  send(text: string): Promise<RunResult> {
    return this.#serial.run(() => this.#one(text));
  }

  async #one(text: string): Promise<RunResult> {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
    let proc: ResidentProcess;
    try {
      proc = await (this.#proc ?? this.#open());
    } catch (e) {
      this.#proc = null; // the next request tries again
      return { exitCode: null, stdout: '', stderr: `cannot start nft -i: ${String(e)}`, timedOut: false };
    }
    const n = ++this.#seq;
    const line = text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .join('; ');
    const r = await new Promise<RunResult>((resolve) => {
      if (this.#current !== proc) {
        // It ended between its start and this request (a missing tool, a kill): the next request starts another.
        resolve({ exitCode: this.#ended.code, stdout: '', stderr: this.#ended.why, timedOut: false });
        return;
      }
      const timer = setTimeout(() => {
        this.#finish({ exitCode: null, stdout: '', stderr: this.#err, timedOut: true });
        this.#drop(proc);
        proc.kill();
      }, this.#resident.timeoutMs);
      this.#pending = { n, resolve, timer };
      proc.write(`${line}\n${MARK}${n}\n`);
    });
    if (this.#current === proc && ++this.#served >= this.#recycleAfter) {
      this.#drop(proc);
      proc.end();
      void this.#open();
    } else if (this.#current === proc) {
      this.#idle = setTimeout(() => {
        this.#idle = null;
        if (this.#current !== proc || this.#pending) return;
        this.#drop(proc);
        proc.end();
      }, IDLE_END_MS);
      this.#idle.unref();
    }
    return r;
  }

  #open(): Promise<ResidentProcess> {
    this.#served = 0;
    this.#err = '';
    const opening = this.#resident.start(ARGV, ENV).then((proc) => {
      if (this.#proc === opening) this.#current = proc;
      proc.onStderr((t) => {
        if (this.#current !== proc) return;
        this.#err += t;
        this.#scan();
      });
      proc.onEnd((code, why) => {
        if (this.#current !== proc) return;
        this.#ended = { code, why: `${this.#err}nft -i ended: ${why}` };
        this.#drop(proc);
        this.#finish({ exitCode: code, stdout: '', stderr: this.#ended.why, timedOut: false });
      });
      return proc;
    });
    this.#proc = opening;
    return opening;
  }

  // The marker's syntax error ends the pending request: "Error: ...\n@@sync N\n^\n". Earlier stderr is its own.
  #scan(): void {
    const p = this.#pending;
    if (!p) return;
    const at = this.#err.indexOf(`\n${MARK}${p.n}\n`);
    if (at < 0) return;
    let end = at + MARK.length + String(p.n).length + 2;
    if (end >= this.#err.length) return; // the caret line under it has not come yet
    if (this.#err[end] === '^') {
      const nl = this.#err.indexOf('\n', end);
      if (nl < 0) return;
      end = nl + 1;
    }
    const own = this.#err.slice(0, this.#err.lastIndexOf('\n', at - 1) + 1);
    this.#err = this.#err.slice(end);
    this.#finish({ exitCode: own ? 1 : 0, stdout: '', stderr: own, timedOut: false });
  }

  #finish(r: RunResult): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = null;
    clearTimeout(p.timer);
    p.resolve(r);
  }

  // Forget a process: requests go to a new one.
  #drop(proc: ResidentProcess): void {
    if (this.#current !== proc) return;
    this.#current = null;
    this.#proc = null;
  }
}

const sessions = new Map<string, NftSession>();

// The shared session for a runner's target, or null where the runner cannot keep a process (then `nft -f -`).
export const nftSession = (run: Runner): NftSession | null => {
  const r = run.resident;
  if (!r) return null;
  let s = sessions.get(r.key);
  if (!s) sessions.set(r.key, (s = new NftSession(r)));
  return s;
};
