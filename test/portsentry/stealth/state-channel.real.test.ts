import { afterEach, describe, expect } from '@jest/globals';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { connect, createServer } from 'node:net';
import { systemClock } from '../../../src/core/clock.js';
import { parseConf } from '../../../src/portsentry/conf.js';
import type { ProbeEvent } from '../../../src/portsentry/event.js';
import { RAW_STATE_CHANNEL, rawSensorFor, type RawSensorState } from '../../../src/portsentry/sensors/raw-mode.js';
import { openRawSensor, type OpenedRawSensor } from '../../../src/portsentry/sensors/raw.js';
import type { Sensor } from '../../../src/portsentry/sensors/types.js';
import { itReal } from '../../helpers/real.js';
import { waitFor } from '../../helpers/wait.js';

// The raw sensor's state reader on its diagnostics channel (what bench/stealth-flood reads inside the daemon):
// published once on start, live counts, backlog back to 0 when the pipeline is done. Loopback traffic only.
const freePort = (): Promise<number> =>
  new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? ok(a.port) : fail(new Error('no port'))));
    });
  });
const knock = (port: number): Promise<void> =>
  new Promise((ok) => {
    const c = connect(port, '127.0.0.1');
    c.on('error', () => ok());
    c.on('connect', () => {
      c.destroy();
      ok();
    });
  });

describe('raw sensor state channel', () => {
  let sensor: Sensor | null = null;
  let handler: ((m: unknown) => void) | null = null;
  afterEach(async () => {
    await sensor?.stop();
    if (handler) unsubscribe(RAW_STATE_CHANNEL, handler);
  });

  itReal({ root: true })(
    'publishes a reader of the bounded state; probes counted and released',
    async () => {
      const port = await freePort();
      const { conf, errors } = parseConf(
        `TCP_PORTS="${port}"\nBLOCKED_FILE="/b"\nHISTORY_FILE="/h"\nIGNORE_FILE="/i"\n`,
        't.conf',
      );
      expect(errors).toEqual([]);
      const got: { mode: string; state: () => RawSensorState }[] = [];
      handler = (m) => {
        got.push(m as { mode: string; state: () => RawSensorState });
      };
      subscribe(RAW_STATE_CHANNEL, handler);
      const events: ProbeEvent[] = [];
      let held: (() => void) | null = null;
      sensor = rawSensorFor('stcp')(conf, {
        log: () => {},
        clock: systemClock,
        // The first probe is held in the "pipeline" until the test lets it go, to see it waiting.
        submit: (ev, hooks) => {
          events.push(ev);
          if (held) hooks?.onDone?.();
          else held = () => hooks?.onDone?.();
        },
      });
      expect(await sensor.start()).toBe(true);
      expect(got.map((g) => g.mode)).toEqual(['stcp']);
      const state = got[0]!.state;
      expect(state()).toMatchObject({ probes: 0, waiting: 0, waitingSources: 0, refused: 0, verifyPending: 0 });
      await knock(port);
      await waitFor(() => events.some((e) => e.dstPort === port), { what: 'a probe from the SYN to the watched port' });
      expect(state()).toMatchObject({ waiting: 1, waitingSources: 1 });
      expect(state().probes).toBeGreaterThanOrEqual(1);
      expect(state().received).toBeGreaterThanOrEqual(state().probes);
      expect(state().verifyCached).toBe(1);
      held!();
      await waitFor(() => state().waiting === 0, { what: 'backlog released' });
      expect(state().waitingSources).toBe(0);
    },
    20000,
  );

  itReal({ root: true })(
    'gets its 4 MiB receive buffer whatever rmem_max says (SO_RCVBUFFORCE); an explicit size is kept',
    () => {
      const base = {
        mode: 'stcp' as const,
        families: [4 as const],
        clock: systemClock,
        isHot: () => false,
        isLocal: () => true,
        onProbe: () => {},
        onNotice: () => {},
      };
      let s: OpenedRawSensor | null = null;
      try {
        s = openRawSensor(base);
        // The kernel reports twice what was granted.
        expect(s.rcvbufBytes[0]).toBe(2 * 4 * 1024 * 1024);
        s.close();
        s = openRawSensor({ ...base, rcvbufBytes: 256 * 1024 });
        expect(s.rcvbufBytes[0]).toBe(2 * 256 * 1024);
      } finally {
        s?.close();
      }
    },
  );
});
