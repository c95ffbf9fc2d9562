import { describe, expect, it } from '@jest/globals';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseAddr, type Addr } from '../../src/core/addr.js';
import { isListed, parseIgnore } from '../../src/portsentry/ignore.js';
import { IgnoreGate } from '../../src/portsentry/ignore-gate.js';
import { makeTmpDir } from '../helpers/tmp.js';

const a = (s: string): Addr => parseAddr(s) as Addr;

describe('ignore file (1.2 rules plus IPv6)', () => {
  const text =
    '# comment\n\n127.0.0.1/32\n0.0.0.0\n192.0.2.5/24 # inline note\n10.1.2.3/40\n2001:db8:1::/48\n  198.51.100.1\n';
  const r = parseIgnore(text, 'ig');
  it('takes the leading address run, /bits, IPv6 prefixes', () => {
    expect(r.entries.map((c) => c.text)).toEqual(['127.0.0.1/32', '0.0.0.0/32', '192.0.2.0/24', '2001:db8:1::/48']);
  });
  it("logs 1.2's invalid-netmask line and warns with file:line", () => {
    expect(r.syslog).toEqual(['adminalert: Invalid netmask in config file: 10.1.2.3/40\n  Ignoring entry.\n']);
    expect(r.warnings.map((w) => w.line)).toEqual([6, 8]);
  });
  it.each([
    ['192.0.2.77', true],
    ['192.0.3.1', false],
    ['2001:db8:1:ff::9', true],
    ['2001:db8:2::1', false],
    ['::ffff:192.0.2.9', true],
  ])('%s listed: %s', (ip, want) => {
    expect(isListed(r.entries, a(ip))).toBe(want);
  });
});

describe('IgnoreGate', () => {
  it('re-reads a changed file, honours .static, says local for own addresses, errors when missing', async () => {
    const { dir, cleanup } = makeTmpDir();
    try {
      const f = join(dir, 'ignore');
      const gate = new IgnoreGate(f, () => [a('192.0.2.1')]);
      expect(gate.check(a('192.0.2.9'))).toEqual({
        verdict: 'not-ignored',
        syslog: ['attackalert: ERROR: cannot open ignore file. Blocking host anyway.\n'],
      });
      writeFileSync(f, '192.0.2.9\n');
      expect(gate.check(a('192.0.2.9')).verdict).toBe('ignored');
      writeFileSync(f, '192.0.2.10\n# longer now\n');
      expect(gate.check(a('192.0.2.9')).verdict).toBe('not-ignored');
      writeFileSync(`${f}.static`, '192.0.2.0/24\n');
      expect(gate.check(a('192.0.2.9')).verdict).toBe('ignored');
      rmSync(`${f}.static`);
      // Own addresses are not ignored; isOwn (asked after the alert line) says so.
      expect(gate.check(a('192.0.2.1')).verdict).toBe('not-ignored');
      expect(gate.isOwn(a('192.0.2.1'))).toBe(true);
      expect(gate.isOwn(a('192.0.2.9'))).toBe(false);
    } finally {
      cleanup();
    }
  });
});
