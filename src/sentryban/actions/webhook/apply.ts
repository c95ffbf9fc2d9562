import { hostname } from 'node:os';
import type { Clock } from '../../../core/clock.js';
import { Serial } from '../../../core/serial.js';
import type { ActionBackend, ActionOutcome, Ban } from '../../types.js';
import { OK, failed } from '../runner.js';
import { elementText } from '../targets.js';
import type { WebhookSpec } from '../spec.js';
import { noticeOf, redactUrl, type NoticeEvent } from './plan.js';
import { postJson } from './post.js';

// Lines kept per ban whose notice is not delivered yet; past this the oldest are dropped (the notice still goes,
// with no lines).
const MAX_KEPT = 10_000;

// Notices of bans and unbans as HTTP(S) POSTs. It is "detached": the daemon does not wait for it, so a slow or
// failing server never holds back a ban or the next decision. A failed notice leaves the backend out of sync and
// the daemon's Repairer retries it with check(bans): every ban in force that was never announced gets its
// notice, and every announced target no longer in force its unban notice. start() announces nothing: bans
// restored after a restart were announced when they were made.
export class WebhookBackend implements ActionBackend {
  readonly name: string;
  readonly detached = true;
  readonly #spec: WebhookSpec;
  readonly #clock: Clock;
  readonly #host: string;
  readonly #serial = new Serial();
  readonly #announced = new Map<string, Ban>(); // target -> ban, ban notice delivered
  readonly #lines = new Map<string, readonly string[]>(); // target -> lines, until its notice is delivered

  constructor(spec: WebhookSpec, clock: Clock, host = hostname()) {
    this.#spec = spec;
    this.#clock = clock;
    this.#host = host;
    this.name = `webhook:${spec.jail}`;
  }

  note(ban: Ban, lines: readonly string[]): void {
    const t = ban.target.text;
    this.#lines.delete(t);
    this.#lines.set(t, lines);
    if (this.#lines.size > MAX_KEPT) {
      const oldest = this.#lines.keys().next();
      if (!oldest.done) this.#lines.delete(oldest.value);
    }
  }

  start(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.#serial.run(() => {
      this.#announced.clear();
      for (const b of bans) this.#announced.set(b.target.text, b);
      return OK;
    });
  }

  ban(ban: Ban): Promise<ActionOutcome> {
    return this.#serial.run(() => this.#send('ban', ban));
  }

  unban(ban: Ban): Promise<ActionOutcome> {
    return this.#serial.run(() => this.#send('unban', ban));
  }

  check(bans: readonly Ban[]): Promise<ActionOutcome> {
    return this.#serial.run(async () => {
      const inForce = new Map(bans.map((b) => [b.target.text, b]));
      let sentBan = 0;
      let sentUnban = 0;
      for (const [t, b] of inForce) {
        if (this.#announced.has(t)) continue;
        const r = await this.#send('ban', b);
        if (!r.ok) return r;
        sentBan++;
      }
      for (const [t, b] of [...this.#announced]) {
        if (inForce.has(t)) continue;
        const r = await this.#send('unban', b);
        if (!r.ok) return r;
        sentUnban++;
      }
      return sentBan + sentUnban === 0
        ? OK
        : { ok: true, repaired: `sent ${sentBan} ban and ${sentUnban} unban notice(s)` };
    });
  }

  async #send(event: NoticeEvent, ban: Ban): Promise<ActionOutcome> {
    const t = ban.target.text;
    const body = JSON.stringify(noticeOf(event, ban, this.#lines.get(t) ?? [], this.#host, this.#clock.now()));
    const headers = this.#spec.authorization === null ? undefined : { authorization: this.#spec.authorization };
    const r = await postJson(this.#spec.url, body, { timeoutMs: this.#spec.timeoutMs, headers });
    if (!r.ok)
      return failed(this.name, ['POST', redactUrl(this.#spec.url), event, elementText(ban.target)], r.status, r.why);
    if (event === 'ban') this.#announced.set(t, ban);
    else this.#announced.delete(t);
    this.#lines.delete(t);
    return OK;
  }
}
