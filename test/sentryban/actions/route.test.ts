import { describe, expect, it } from '@jest/globals';
import { parseCidr } from '../../../src/core/addr.js';
import { planBanArgv, planUnbanArgv } from '../../../src/sentryban/actions/route/plan.js';
import { parseRoutes, planRouteRepair } from '../../../src/sentryban/actions/route/check.js';

const c = (t: string) => parseCidr(t)!;

describe('route plans (golden)', () => {
  it('argv per family, tagged with our protocol number', () => {
    expect(planBanArgv('blackhole', c('192.0.2.1'), 251)).toEqual([
      'ip',
      '-4',
      'route',
      'replace',
      'blackhole',
      '192.0.2.1/32',
      'proto',
      '251',
    ]);
    expect(planBanArgv('prohibit', c('2001:db8::/48'), 251)).toEqual([
      'ip',
      '-6',
      'route',
      'replace',
      'prohibit',
      '2001:db8::/48',
      'proto',
      '251',
    ]);
    expect(planUnbanArgv('unreachable', c('2001:db8::1'), 251)).toEqual([
      'ip',
      '-6',
      'route',
      'del',
      'unreachable',
      '2001:db8::1/128',
      'proto',
      '251',
    ]);
  });

  it('repair: missing and wrong-type routes replaced, strays deleted with their own type', () => {
    const have = parseRoutes(
      '[{"type":"unreachable","dst":"192.0.2.2","flags":[]},{"type":"blackhole","dst":"198.51.100.0/24"},{"type":"unreachable","dst":"192.0.2.9"}]',
    );
    expect(planRouteRepair(have, ['192.0.2.2/32', '198.51.100.0/24', '203.0.113.1/32'], 'unreachable', 251)).toEqual([
      'route replace unreachable 198.51.100.0/24 proto 251',
      'route replace unreachable 203.0.113.1/32 proto 251',
      'route del unreachable 192.0.2.9/32 proto 251',
    ]);
    expect(parseRoutes('')).toEqual(new Map());
  });
});
