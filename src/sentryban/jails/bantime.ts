import type { IncrementConfig } from './config.js';

// fail2ban's bantime.increment (server/jail.py setBanTimeExtra, server/observer.py incrBanTime), recomputed:
// previous bans c > 0 -> multipliers: bantime * factor * mult[min(c, len-1)]; else max(bantime, formula)
// with the default formula bantime * 2^min(c, 20) * factor; then min(.., maxtime); then + random() * rndtime.
export type BantimeOutcome = { sec: number; why: string };

export const computeBantime = (
  base: number,
  prevBans: number,
  inc: IncrementConfig | null,
  random: () => number,
): BantimeOutcome => {
  if (base < 0) return { sec: -1, why: 'permanent' };
  if (!inc || prevBans <= 0) return { sec: base, why: `bantime ${base}s` };
  let sec: number;
  let why: string;
  if (inc.multipliers.length > 0) {
    const m = inc.multipliers[Math.min(prevBans, inc.multipliers.length - 1)] ?? 1;
    sec = base * inc.factor * m;
    why = `${base}s * factor ${inc.factor} * multiplier ${m} (ban #${prevBans + 1})`;
  } else if (inc.formula) {
    sec = Math.max(base, inc.formula.evaluate({ 'ban.Time': base, 'ban.Count': prevBans, banFactor: inc.factor }));
    why = `max(${base}s, ${inc.formula.text}) (ban #${prevBans + 1})`;
  } else {
    sec = Math.max(base, base * 2 ** Math.min(prevBans, 20) * inc.factor);
    why = `${base}s * 2^${Math.min(prevBans, 20)} * factor ${inc.factor} (ban #${prevBans + 1})`;
  }
  if (inc.maxtimeSec !== null && sec > inc.maxtimeSec) {
    sec = inc.maxtimeSec;
    why += `, capped at maxtime ${inc.maxtimeSec}s`;
  }
  if (inc.rndtimeSec !== null) {
    const extra = random() * inc.rndtimeSec;
    sec += extra;
    why += `, + ${extra.toFixed(0)}s random (rndtime ${inc.rndtimeSec}s)`;
  }
  return { sec, why: `bantime ${Math.round(sec)}s = ${why}` };
};

// While increment is on, a failure of a known-bad id weighs 2^min(c,20)/2 + 1, capped at maxretry
// (observer.failureFound): 1 prior ban -> 2, then 3, 5, 9 ...
export const failureWeight = (prevBans: number, maxretry: number, inc: IncrementConfig | null): number => {
  if (!inc || prevBans <= 0) return 1;
  return Math.min(Math.floor(2 ** Math.min(prevBans, 20) / 2 + 1), maxretry);
};
