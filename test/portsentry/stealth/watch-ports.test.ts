import { describe, expect, it } from '@jest/globals';
import { planAdvancedWatch, planStealthWatch } from '../../../src/portsentry/sensors/watch-ports.js';

describe('planStealthWatch (-stcp/-sudp)', () => {
  it('logs every port, drops the ones in use at start, watches the rest', () => {
    const plan = planStealthWatch('tcp', [1, 22, 79], new Set([22]));
    expect(plan.lines).toEqual([
      'adminalert: Going into stealth listen mode on TCP port: 1\n',
      'adminalert: Going into stealth listen mode on TCP port: 22\n',
      'adminalert: ERROR: Socket 22 is in use and will not be monitored. Attempting to continue\n',
      'adminalert: Going into stealth listen mode on TCP port: 79\n',
    ]);
    expect([1, 22, 79, 80].map((p) => plan.isHot(p))).toEqual([true, false, true, false]);
    expect(plan.fatal).toBeUndefined();
  });

  it('refuses an empty list and a list entirely in use, with 1.2 texts', () => {
    expect(planStealthWatch('udp', [], new Set()).fatal).toBe(
      'adminalert: ERROR: No UDP ports supplied in config file. Aborting',
    );
    expect(planStealthWatch('udp', [53], new Set([53])).fatal).toBe(
      'adminalert: ERROR: All supplied UDP sockets are in use and will not be listened to. Shutting down.\n',
    );
  });
});

describe('planAdvancedWatch (-atcp/-audp)', () => {
  it('watches below the limit except ports in use (ascending) and excluded ones, in 1.2 order', () => {
    const plan = planAdvancedWatch('tcp', { advancedPorts: 1024, exclude: [113, 139] }, new Set([80, 22, 5000]));
    expect(plan.lines).toEqual([
      'adminalert: Advanced mode will monitor first 1024 ports',
      'adminalert: Advanced mode will manually exclude port: 113 ',
      'adminalert: Advanced mode will manually exclude port: 139 ',
      'adminalert: Advanced Stealth scan detection mode activated. Ignored TCP port: 22\n',
      'adminalert: Advanced Stealth scan detection mode activated. Ignored TCP port: 80\n',
      'adminalert: Advanced Stealth scan detection mode activated. Ignored TCP port: 113\n',
      'adminalert: Advanced Stealth scan detection mode activated. Ignored TCP port: 139\n',
    ]);
    expect([1, 22, 80, 113, 139, 1023, 1024, 5000].map((p) => plan.isHot(p))).toEqual([
      true,
      false,
      false,
      false,
      false,
      true,
      false,
      false,
    ]);
  });

  it('assumes 1024 when the key is absent and says when nothing is excluded', () => {
    const plan = planAdvancedWatch('udp', { advancedPorts: null, exclude: null }, new Set());
    expect(plan.lines).toEqual([
      'adminalert: ERROR: Could not read ADVANCED_PORTS_UDP option from config file. Assuming 1024.',
      'adminalert: Advanced mode will monitor first 1024 ports',
      'adminalert: Advanced mode will manually exclude no ports',
    ]);
    expect(plan.isHot(1023)).toBe(true);
    // 1.2 skips the limit when its list is empty (every port hot); we keep the limit (deliberate difference).
    expect(plan.isHot(1024)).toBe(false);
  });
});
