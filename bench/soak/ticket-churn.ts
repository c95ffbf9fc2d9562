import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ManualClock } from '../../src/core/clock.js';
import { BanManager } from '../../src/sentryban/daemon/manager.js';
import { DecisionLog } from '../../src/sentryban/daemon/log.js';
import { Store } from '../../src/sentryban/store/store.js';
import { loadJailYaml } from '../../test/helpers/jail.js';

// `npm run soak ticket-churn [minutes]`: the counting state of a jail under a steady stream of new addresses, each
// failing once (a scanned server: most sources try once and go). The real ban manager, jail and store in this
// process, on a simulated clock: 2,000 new IPv6 addresses a minute, findtime 60 s, maxretry 3. Figures: tickets
// held ("counting" in status) and the V8 heap's growth after each quarter. Flat is the goal: a jail need keep only
// the addresses of its last findtimes.
export async function main(args: string[]): Promise<void> {
  const minutes = Number(args[0] ?? 120);
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const dir = mkdtempSync(join(tmpdir(), 'ticket-churn-'));
  try {
    const jail = loadJailYaml(
      "app:\n  failregex: 'auth failure from <HOST>$'\n  logpath: x.log\n  maxretry: 3\n" +
        '  findtime: 60\n  bantime: 1h\n  ignoreself: false\n',
      dir,
    );
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const opened = Store.open(join(dir, 'db.sqlite3'));
    if (!opened.ok) throw new Error(opened.message);
    try {
      const log = new DecisionLog(null, false, clock);
      const m = new BanManager([jail], { store: opened.store, clock, log, backends: new Map() });
      await m.start();
      gc();
      const h0 = getHeapStatistics().used_heap_size;
      let n = 0;
      const out: string[] = [];
      for (let min = 1; min <= minutes; min++) {
        for (let b = 0; b < 4; b++, clock.advance(15_000)) {
          const lines = Array.from({ length: 500 }, () => {
            const a = `2001:db8:${(n >> 16).toString(16)}:${(n++ & 0xffff).toString(16)}::1`;
            return { text: `auth failure from ${a}`, source: 'x.log', at: clock.now() };
          });
          await m.lines('app', lines);
        }
        if (min % Math.max(1, Math.floor(minutes / 4)) === 0) {
          gc();
          const mib = (getHeapStatistics().used_heap_size - h0) / 2 ** 20;
          out.push(`${min} min: ${n} addresses, counting ${m.status()[0]?.counting}, heap +${mib.toFixed(1)} MiB`);
        }
      }
      console.log(`ticket-churn (findtime 60 s, 2,000 new addresses a minute): ${out.join('; ')}`);
    } finally {
      opened.store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
