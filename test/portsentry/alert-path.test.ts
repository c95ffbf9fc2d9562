import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseAddr, type Addr } from '../../src/core/addr.js';
import { ManualClock } from '../../src/core/clock.js';
import { BlockedStore } from '../../src/portsentry/blocked.js';
import { parseConf } from '../../src/portsentry/conf.js';
import type { ProbeEvent } from '../../src/portsentry/event.js';
import { IgnoreGate } from '../../src/portsentry/ignore-gate.js';
import { OwnAddressWatch } from '../../src/portsentry/own-addrs.js';
import { Pipeline } from '../../src/portsentry/pipeline.js';
import type { CommandOutcome } from '../../src/portsentry/run-command.js';
import { StateEngine } from '../../src/portsentry/trigger.js';
import { makeTmpDir } from '../helpers/tmp.js';

const a = (s: string): Addr => parseAddr(s) as Addr;

// What sits between a probe and KILL_ROUTE must not wait: the route command is started before submit() returns
// (no promise hop, no thread-pool write), as 1.2 ran it in the same pass of its loop.
describe('alert path: the route command starts within submit()', () => {
  const run = (confBody: string, check: (dir: string, started: string[][], lines: string[]) => void) => {
    const { dir, cleanup } = makeTmpDir('ps-alert-path-');
    try {
      const { conf, errors } = parseConf(
        `BLOCKED_FILE="${dir}/blocked"\nHISTORY_FILE="${dir}/history"\nIGNORE_FILE="${dir}/ignore"\n` +
          `BLOCK_TCP="1"\nSCAN_TRIGGER="0"\nKILL_ROUTE="/sbin/route add $TARGET$ 333.444.555.666"\n${confBody}`,
        'test.conf',
      );
      expect(errors).toEqual([]);
      writeFileSync(`${dir}/blocked.tcp`, '');
      writeFileSync(`${dir}/ignore`, '# none\n');
      const started: string[][] = [];
      const lines: string[] = [];
      const p = new Pipeline({
        conf,
        log: (l) => lines.push(l),
        ignore: new IgnoreGate(`${dir}/ignore`, () => []),
        engine: new StateEngine(0),
        store: new BlockedStore(`${dir}/blocked.tcp`, `${dir}/history`),
        hostsDeny: `${dir}/hosts.deny`,
        // A starter like the native one: the command is started synchronously, its end comes later.
        run: (argv) => {
          started.push([...argv]);
          return new Promise<CommandOutcome>((r) => setImmediate(() => r({ kind: 'ran', exitCode: 0 })));
        },
        resolve: async (x) => x.text,
        now: () => new Date(2026, 10, 25, 4, 5, 19),
      });
      const done = p.submit({
        proto: 'tcp',
        mode: 'stcp',
        src: a('192.0.2.9'),
        dstPort: 1,
        flags: { syn: true, fin: false, ack: false, psh: false, rst: false, urg: false },
        at: 0,
      } satisfies ProbeEvent);
      check(dir, started, lines);
      return done;
    } finally {
      setImmediate(cleanup);
    }
  };

  it('without KILL_HOSTS_DENY', () =>
    run('', (_dir, started) => {
      expect(started).toEqual([['/sbin/route', 'add', '192.0.2.9', '333.444.555.666']]);
    }));

  it('with KILL_HOSTS_DENY: hosts.deny is written first, synchronously, then the route command starts', () =>
    run('KILL_HOSTS_DENY="ALL: $TARGET$"\n', (dir, started, lines) => {
      expect(readFileSync(`${dir}/hosts.deny`, 'latin1')).toBe('ALL: 192.0.2.9\n');
      expect(started).toEqual([['/sbin/route', 'add', '192.0.2.9', '333.444.555.666']]);
      expect(lines).toEqual([
        'attackalert: TCP SYN/Normal scan from host: 192.0.2.9/192.0.2.9 to TCP port: 1',
        'attackalert: Host 192.0.2.9 has been blocked via wrappers with string: "ALL: 192.0.2.9"',
      ]);
    }));
});

describe('own addresses, kept current off the probe path', () => {
  it('are re-read by the timer every refreshMs, so get() does not read', () => {
    const clock = new ManualClock(1000);
    let reads = 0;
    const w = new OwnAddressWatch(clock, {
      refreshMs: 100,
      maxAgeMs: 250,
      read: () => {
        reads++;
        return [a(`192.0.2.${reads}`)];
      },
    });
    expect(reads).toBe(1);
    expect(w.get().map(String)).toEqual(['192.0.2.1']);
    clock.advance(99);
    expect(w.get().map(String)).toEqual(['192.0.2.1']);
    expect(reads).toBe(1);
    clock.advance(1); // the timer: an address added shows within refreshMs
    expect(reads).toBe(2);
    expect(w.get().map(String)).toEqual(['192.0.2.2']);
    clock.advance(1000);
    expect(reads).toBe(12);
    w.get();
    expect(reads).toBe(12);
    w.stop();
    clock.advance(1000);
    expect(reads).toBe(12);
    expect(clock.pending()).toBe(0);
  });

  it('get() reads at once when the timer was held up past maxAgeMs, or the clock went back', () => {
    const clock = new ManualClock(1000);
    let reads = 0;
    const w = new OwnAddressWatch(clock, {
      refreshMs: 100,
      maxAgeMs: 250,
      read: () => {
        reads++;
        return [a(`192.0.2.${reads}`)];
      },
    });
    w.stop(); // no timer: as if the event loop were busy
    clock.set(1250);
    expect(w.get().map(String)).toEqual(['192.0.2.1']);
    clock.set(1251);
    expect(w.get().map(String)).toEqual(['192.0.2.2']);
    clock.set(500);
    expect(w.get().map(String)).toEqual(['192.0.2.3']);
  });

  it("keeps the last good list when a read fails, and reads this host's loopback by default", () => {
    const clock = new ManualClock(0);
    let fail = false;
    const w = new OwnAddressWatch(clock, {
      read: () => {
        if (fail) throw new Error('netlink');
        return [a('192.0.2.1')];
      },
    });
    fail = true;
    clock.advance(300);
    expect(w.get().map(String)).toEqual(['192.0.2.1']);
    w.stop();
    const real = new OwnAddressWatch(clock);
    expect(real.get().map(String)).toContain('127.0.0.1');
    real.stop();
  });
});
