import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic } from '../../../src/core/diagnostics.js';
import { loadFail2banJails } from '../../../src/sentryban/config/fail2ban-jails.js';
import { makeTmpDir } from '../../helpers/tmp.js';

// Refusals of a fail2ban jail configuration name file:line even for what is written nowhere (found by
// bench/soak/config-fuzz.ts: a missing filter and a missing logpath were reported at line 0).
let tmp: ReturnType<typeof makeTmpDir>;
beforeEach(() => {
  tmp = makeTmpDir('sentryban-jails-');
  mkdirSync(join(tmp.dir, 'filter.d'));
});
afterEach(() => tmp.cleanup());

describe('fail2ban jails: every refusal at a file:line', () => {
  it("a filter that does not exist at the jail's filter line; no logpath at the jail's header", () => {
    writeFileSync(join(tmp.dir, 'filter.d', 'x.conf'), '[Definition]\nfailregex = ^x <HOST>$\n');
    writeFileSync(join(tmp.dir, 'a.log'), '');
    writeFileSync(
      join(tmp.dir, 'jail.conf'),
      [
        '[DEFAULT]',
        'bantime = 1h',
        '',
        '[a]',
        'enabled = true',
        'filter = nosuch',
        `logpath = ${tmp.dir}/a.log`,
        '',
        '[b]',
        'enabled = true',
        'filter = x',
        '',
      ].join('\n'),
    );
    const r = loadFail2banJails(tmp.dir);
    const jc = join(tmp.dir, 'jail.conf');
    const no = join(tmp.dir, 'filter.d', 'nosuch');
    expect(r.ok ? [] : r.errors.map(formatDiagnostic)).toEqual([
      `${jc}:6: a.filter: ${no}: no ${no}.conf or ${no}.local found`,
      `${jc}:9: b.logpath: no log file found (fail2ban refuses this jail too)`,
    ]);
    expect(r.ok ? [] : r.errors.filter((e) => e.line < 1)).toEqual([]);
  });

  it('a logpath glob with a class RegExp refuses matches no file: refused at its line, no exception', () => {
    writeFileSync(join(tmp.dir, 'filter.d', 'x.conf'), '[Definition]\nfailregex = ^x <HOST>$\n');
    const jail = ['[a]', 'enabled = true', 'filter = x', `logpath = ${tmp.dir}/a[z-a].log`, ''];
    writeFileSync(join(tmp.dir, 'jail.conf'), jail.join('\n'));
    const r = loadFail2banJails(tmp.dir);
    expect(r.ok ? [] : r.errors.map(formatDiagnostic)).toEqual([
      `${join(tmp.dir, 'jail.conf')}:4: a.logpath: no log file found (fail2ban refuses this jail too)`,
    ]);
  });
});
