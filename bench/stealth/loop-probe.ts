import { subscribe } from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { RAW_STATE_CHANNEL, RawSensorState } from '../../src/portsentry/sensors/raw-mode.js';

// Preloaded into our daemon by bench/stealth-flood.ts (NODE_OPTIONS=--import=<this file>): every 250 ms one
// JSON line to $STEALTH_LOOP_PROBE_OUT with the event-loop delay of the last interval (p99 and max, 1 ms
// resolution), RSS, and the raw sensor's state (backlog, sources waiting, smart-verify queue and cache) read
// through the sensor's diagnostics channel. Without the variable it does nothing.
// Type-only import (loading raw-mode here would load a second copy of the sensor): tsc checks the name matches.
const CHANNEL: typeof RAW_STATE_CHANNEL = 'sentrytools:portsentry:raw-sensor';
const out = process.env.STEALTH_LOOP_PROBE_OUT;
if (out) {
  let state: (() => RawSensorState) | null = null;
  subscribe(CHANNEL, (m) => {
    state = (m as { state: () => RawSensorState }).state;
  });
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const tick = setInterval(() => {
    const line = {
      t: Date.now(),
      p99Ms: h.percentile(99) / 1e6,
      maxMs: h.max / 1e6,
      rssMiB: process.memoryUsage().rss / 1048576,
      ...(state?.() ?? {}),
    };
    h.reset();
    appendFileSync(out, `${JSON.stringify(line)}\n`);
  }, 250);
  tick.unref();
}
