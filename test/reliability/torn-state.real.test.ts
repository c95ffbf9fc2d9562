import { describe, expect } from '@jest/globals';
import { DAMAGES, runDiskFull, runExt4ReadOnly, runReadOnly, runTorn } from '../../bench/soak/lib/torn-state.js';
import { itReal } from '../helpers/real.js';

// Real faults under the real daemon (bench/soak/lib/torn-state.ts; `npm run soak torn-state` at full size): the
// daemon stays up, says once what happened to its store, keeps every ban it can, and writes again after the fault.
const it = itReal({ root: true, commands: ['unshare', 'nsenter', 'mount', 'mkfs.ext4', 'e2fsck', 'findmnt'] });
const N = 6;
const ALL_WELL = { daemonUp: true, writesResumed: true, firewallMatches: true, expiredUnbanned: true };

describe('torn-state: a full or read-only state folder, a torn -wal, a damaged page', () => {
  // 512 KiB: the -wal grown by the first 8 bans holds most of the space, so the store is writable again only once
  // a checkpoint has truncated it.
  it('disk full while running: bans go on in memory and the firewall, one expires, all are written', async () => {
    const f = await runDiskFull(16, '512k');
    expect(f).toMatchObject({ bans: 16, kept: 16, lost: 0, ...ALL_WELL });
    expect(f.logLines).toEqual([
      expect.stringMatching(/sqlite3: cannot write \(full: SQLITE_FULL .*\); bans go on in memory and in the firewall/),
      expect.stringMatching(/sqlite3: writable again after \d+s \(\d+ tr(y|ies)\); queued changes written in order$/),
    ]);
    expect(f.syslogLines.map((l) => l.slice(0, 12))).toEqual(['<27>ERROR   ', '<29>NOTICE  ']);
  }, 60_000);

  it('read-only at start: restores from the file, bans in memory, writes once remounted rw', async () => {
    const f = await runReadOnly(N);
    expect(f).toMatchObject({ bans: N, kept: N, lost: 0, ...ALL_WELL });
    expect(f.fault).toContain(`(read-only; ${N / 2} restored)`);
    expect(f.logLines).toEqual([
      expect.stringMatching(/sentryban\.sqlite3: cannot write \(read-only: EROFS .*\)/),
      expect.stringMatching(/writable again after/),
    ]);
    expect(f.syslogLines).toHaveLength(2);
  }, 60_000);

  // The bans committed just before the error were in the page cache only: the aborted ext4 journal drops them.
  it('ext4 turned read-only under the running daemon, then unmounted, checked, mounted: nothing lost', async () => {
    const f = await runExt4ReadOnly(N);
    expect(f).toMatchObject({ bans: N, kept: N, lost: 0, ...ALL_WELL });
    expect(f.logLines).toEqual([
      expect.stringMatching(/sqlite3: cannot write \((io|read-only): /),
      expect.stringMatching(/writable again after .*; \d+ ban\(s\) in force were missing from it \(lost by the file/),
    ]);
    expect(f.syslogLines).toHaveLength(2);
  }, 60_000);

  for (const d of DAMAGES) {
    it(`${d.name}: opens, keeps what was committed, says once what it dropped`, async () => {
      const f = await runTorn(N, d);
      expect(f).toMatchObject({ daemonUp: true, writesResumed: true, firewallMatches: true });
      expect(f.logLines).toHaveLength(1);
      if (d.name.startsWith('wal')) {
        expect(f).toMatchObject({ kept: N - 1, lost: 1 });
        expect(f.logLines[0]).toMatch(/-wal: the last write was cut .*: kept \d+ complete transaction.*dropped \d+/);
      } else {
        expect(f).toMatchObject({ kept: N, lost: 0 });
        expect(f.logLines[0]).toMatch(/sqlite3: damaged \(.*\); moved aside to .*\.corrupt-.*; fresh store started/);
      }
    }, 60_000);
  }
});
