import { hitId, type Hit, type MatchResult } from '../filters/matcher.js';
import type { Resolution } from '../dns/resolver.js';

const MATCHED = 1;
const IGNORED = 2;
const MISSED = 3;
const fmtTime = (sec: number): string => new Date(sec * 1000).toISOString().replace('T', ' ').slice(0, 19);

// What a range of lines adds to fail2ban-regex's summary, made in another thread (plain data, posted back).
export type TallyPart = {
  tested: number;
  ignored: number;
  matched: number;
  missed: number;
  found: string[];
  recent: number[];
  back: number[];
};

// fail2ban-regex's counts of tested lines: ignored, matched, missed, the first matched addresses, and the
// relabelling as matched of earlier lines that a multi-line failure consumed (the last 64 lines' statuses, a ring).
export class Tally {
  tested = 0;
  ignored = 0;
  matched = 0;
  missed = 0;
  readonly found: string[] = [];
  #recent = new Uint8Array(64);
  // Relabels of lines before the first one counted here (j lines before it), for a range started mid-file.
  readonly back: number[] = [];
  readonly #local: boolean;

  // local: the first line counted is not the file's first (another Tally counted the lines before).
  constructor(local = false) {
    this.#local = local;
  }

  // res: the lookup of the line's host name; a name without address leaves the line missed, as fail2ban-regex.
  count(r: MatchResult, res: Resolution | null): void {
    const t = ++this.tested;
    const recent = this.#recent;
    if (r.consumedBack) {
      for (const k of r.consumedBack) {
        if (k > 64) continue;
        if (k >= t) {
          if (this.#local) this.back.push(k - t + 1);
          continue;
        }
        this.#relabel((t - 1 - k) & 63);
      }
    }
    let hit: Hit | undefined;
    if (!r.ignored)
      for (const h of r.hits)
        if (!h.nofail) {
          hit = h;
          break;
        }
    if (res && res.addrs.length === 0) hit = undefined;
    if (hit) {
      this.matched++;
      recent[(t - 1) & 63] = MATCHED;
      if (this.found.length <= 50) {
        const at = r.time === null ? 'no time' : fmtTime(Math.floor(r.time / 1000));
        for (const id of res ? res.addrs.map((a) => a.text) : [hitId(hit)])
          if (this.found.length <= 50) this.found.push(`    ${id}  (${at})`);
      }
    } else if (r.ignored) {
      this.ignored++;
      recent[(t - 1) & 63] = IGNORED;
    } else {
      this.missed++;
      recent[(t - 1) & 63] = MISSED;
    }
  }

  #relabel(i: number): void {
    if (this.#recent[i] === MISSED) {
      this.#recent[i] = MATCHED;
      this.missed--;
      this.matched++;
    }
  }

  part(): TallyPart {
    return {
      tested: this.tested,
      ignored: this.ignored,
      matched: this.matched,
      missed: this.missed,
      found: this.found.slice(),
      recent: [...this.#recent],
      back: this.back.slice(),
    };
  }

  // Appends the counts of the lines right after these (counted by another Tally, constructed local).
  add(p: TallyPart): void {
    const t = this.tested;
    for (const j of p.back) if (j <= t) this.#relabel((t - j) & 63);
    // The ring goes on with the other's last lines (a shorter range keeps this one's older lines).
    const n = Math.min(64, p.tested);
    for (let q = p.tested - n; q < p.tested; q++) this.#recent[(t + q) & 63] = p.recent[q & 63] as number;
    this.tested += p.tested;
    this.ignored += p.ignored;
    this.matched += p.matched;
    this.missed += p.missed;
    for (const f of p.found) if (this.found.length <= 50) this.found.push(f);
  }
}
