import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../../src/core/clock.js';
import { RefusalNotice } from '../../../src/portsentry/sensors/refusal-notice.js';

const FULL =
  'adminalert: Probe backlog full (4096 waiting, or a few from one source): ' +
  'further probes get no line until it drains.';

describe('RefusalNotice: probes refused by admission are never dropped silently', () => {
  it('one line when refusals start, one with the count once they stopped for a second', () => {
    const clock = new ManualClock(0);
    const lines: string[] = [];
    const n = new RefusalNotice(clock, (l) => lines.push(l), 4096);
    for (let i = 0; i < 300; i++) {
      n.refused();
      clock.advance(10);
    }
    expect(lines).toEqual([FULL]);
    clock.advance(1000);
    expect(lines.slice(1)).toEqual(['adminalert: Probe backlog drained: 300 probes got no line over 3.0 s.']);
    n.refused();
    n.stop();
    expect(lines.slice(2)).toEqual([FULL, 'adminalert: Probe backlog drained: 1 probes got no line over 0.0 s.']);
    expect(clock.pending()).toBe(0);
  });
});
