import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { fail2banLogLine, fail2banMessage } from '../store/audit.js';
import type { Decision } from '../types.js';

// Decisions as fail2ban would log them ("NOTICE  [sshd] Ban 203.0.113.5"), to the log file and, in the
// foreground, to stderr. One line per decision, never per input line.
export class DecisionLog {
  readonly #file: string | null;
  readonly #stderr: boolean;
  readonly #clock: Clock;
  constructor(file: string | null, stderr: boolean, clock: Clock) {
    this.#file = file;
    this.#stderr = stderr;
    this.#clock = clock;
    if (file) mkdirSync(dirname(file), { recursive: true });
  }
  decision(d: Decision | { kind: 'restored'; jail: string; target: string }): void {
    const m = fail2banMessage(d);
    if (m) this.line(m.logger, m.level, m.text);
  }
  line(logger: string, level: string, text: string): void {
    const line = `${fail2banLogLine(this.#clock.now(), logger, process.pid, level, text)}\n`;
    if (this.#file) { try { appendFileSync(this.#file, line); } catch { /* the audit rows still hold it */ } }
    if (this.#stderr) process.stderr.write(line);
  }
}
