import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTmpDir } from '../../helpers/tmp.js';
import { parseIni } from '../../../src/sentryban/filters/fail2ban/ini.js';
import { loadFail2banConf } from '../../../src/sentryban/filters/fail2ban/conf.js';
import { lookupOption } from '../../../src/sentryban/filters/fail2ban/interpolate.js';
import { loadFail2banFilter } from '../../../src/sentryban/filters/fail2ban/filter-reader.js';
import { loadFilter } from '../../../src/sentryban/filters/load.js';
import { formatDiagnostic, type Result } from '../../../src/core/diagnostics.js';

let tmp: ReturnType<typeof makeTmpDir>;
beforeEach(() => {
  tmp = makeTmpDir('sentryban-conf-');
  mkdirSync(join(tmp.dir, 'filter.d'));
});
afterEach(() => tmp.cleanup());
const put = (name: string, text: string): string => {
  const p = join(tmp.dir, 'filter.d', name);
  writeFileSync(p, text);
  return p;
};
const value = <T>(r: Result<T>): T => {
  if (!r.ok) throw new Error(r.errors.map(formatDiagnostic).join('\n'));
  return r.value;
};
const errors = <T>(r: Result<T>): string[] => (r.ok ? [] : r.errors.map(formatDiagnostic));

describe('fail2ban INI dialect', () => {
  it('reads continuations, keeps # in values, strips ; comments only after whitespace', () => {
    const ini = value(
      parseIni(
        '[Definition]\nfailregex = ^a#b;c <HOST>$ ; comment\n    ^second$\n# full comment\n\n    ^third$\nKey: v\n',
        'f.conf',
      ),
    );
    const d = ini.sections.get('Definition')?.options;
    expect(d?.get('failregex')?.value).toBe('^a#b;c <HOST>$\n^second$\n\n^third$');
    expect(d?.get('failregex')?.line).toBe(2);
    expect(d?.get('key')?.value).toBe('v');
  });

  it('refuses duplicates and text before any section, with file:line', () => {
    expect(errors(parseIni('x = 1\n[A]\na = 1\na = 2\n[A]\n', 'f.conf'))).toEqual([
      'f.conf:1: expected a [section] header, found "x = 1"',
      'f.conf:4: A: option "a" already set in this section',
      'f.conf:5: section [A] already defined in this file',
    ]);
  });
});

describe('fail2ban config files', () => {
  it('reads includes before/after with their .local, X.d/, and keeps known/ values', () => {
    put('common.conf', '[DEFAULT]\nbase = B\n[Definition]\nfailregex = common\n');
    put('common.local', '[DEFAULT]\nbase = B-local\n');
    put('x.conf', '[INCLUDES]\nbefore = common.conf\n[Definition]\nfailregex = ^x <HOST> %(base)s$\n');
    put('x.local', '[Definition]\nfailregex = %(known/failregex)s\n            ^local <HOST>$\n');
    const conf = value(loadFail2banConf(join(tmp.dir, 'filter.d', 'x')));
    expect(conf.files.map((f) => f.split('/').pop())).toEqual(['common.conf', 'common.local', 'x.conf', 'x.local']);
    expect(value(lookupOption(conf, 'Definition', 'failregex'))).toBe('^x <HOST> B-local$\n^local <HOST>$');
  });

  it('interpolates %(sec/opt)s, %(__name__)s and %%, renames conditional sections, and says where a bad % is', () => {
    put(
      'y.conf',
      '[Other]\no = from-other\n[Definition]\na = %(Other/o)s %(__name__)s 100%%\nbad = 5%d\n[Init?family=inet6]\nchain = six\n',
    );
    const conf = value(loadFail2banConf(join(tmp.dir, 'filter.d', 'y.conf')));
    expect(value(lookupOption(conf, 'Definition', 'a'))).toBe('from-other Definition 100%');
    expect(conf.sections.get('Init')?.get('chain?family=inet6')?.value).toBe('six');
    expect(errors(lookupOption(conf, 'Definition', 'bad'))[0]).toMatch(/y\.conf:5: Definition: bad "%"/);
  });

  it('resolves tags with jail options > [Init] > [Definition] and known/ init values', () => {
    put(
      'z.conf',
      '[Definition]\nmode = normal\nre-normal = ^n <HOST>$\nre-aggressive = ^a <HOST>$\nfailregex = <re-<mode>>\n            ^<known/extra>$\n[Init]\nmode = aggressive\nextra = e\n',
    );
    const path = join(tmp.dir, 'filter.d', 'z');
    expect(value(loadFail2banFilter(path)).failregex.map((r) => r.regex)).toEqual(['^a <HOST>$', '^e$']);
    expect(value(loadFail2banFilter(path, { mode: 'normal' })).failregex.map((r) => r.regex)).toEqual([
      '^n <HOST>$',
      '^e$',
    ]);
  });

  it('refuses a self-referencing tag', () => {
    put('s.conf', '[Definition]\nfailregex = <failregex> <HOST>\n');
    expect(errors(loadFail2banFilter(join(tmp.dir, 'filter.d', 's')))[0]).toMatch(/self-referencing/);
  });

  it('refuses untranslatable regexes and regexes without failure id, naming the file and line', () => {
    put('t.conf', '[Definition]\nfailregex = ^ok <HOST>$\n            ^(?>atomic) <HOST>$\n            ^no id here$\n');
    const e = errors(loadFilter(join(tmp.dir, 'filter.d', 't.conf')));
    expect(e.some((m) => /t\.conf:3: failregex: cannot translate to JavaScript: atomic group/.test(m))).toBe(true);
    expect(e.some((m) => /t\.conf:4: failregex: no failure-id group/.test(m))).toBe(true);
  });

  // Found by bench/soak/config-fuzz.ts: these were reported at line 0 (no line to go to).
  it('places whole-filter refusals at a line: no failregex at [Definition] (or line 1), a bad datepattern at its own', () => {
    const e = put('e.conf', '# no failregex\n[Definition]\nprefregex = ^<F-CONTENT>.+</F-CONTENT>$\n');
    expect(errors(loadFilter(e))).toEqual([`${e}:2: failregex: no failregex`]);
    const n = put('n.conf', '[Init]\nx = 1\n');
    expect(errors(loadFilter(n))).toEqual([`${n}:1: failregex: no failregex`]);
    const d = put(
      'd.conf',
      '[Definition]\nfailregex = ^x <HOST>$\ndatepattern = %%Y-%%m-%%d\n              %%Y-%%m-%%d\n',
    );
    expect(errors(loadFilter(d))).toEqual([
      expect.stringMatching(new RegExp(`^${d}:3: datepattern: date template .* given twice$`)),
    ]);
  });

  it('refuses a backreference before its group at its line instead of throwing (found by config-fuzz)', () => {
    // a reference before its group: valid in JavaScript, refused by Python's re ("unknown group name")
    const b = put('b.conf', '[Definition]\nfailregex = ^ok <HOST>$\n            ^(?P=x)(?P<x>a) <HOST>$\n');
    expect(errors(loadFilter(b))).toEqual([
      `${b}:3: failregex: cannot translate to JavaScript: backreference to unknown group x in "^(?P=x)(?P<x>a) <HOST>$"`,
    ]);
  });

  it('refuses an option that refers to itself at once, at the line that closes the loop (found by config-fuzz)', () => {
    // fail2ban stops at depth 10; expanded level by level, each level doubles the work before that
    const l = put(
      'l.conf',
      '[Definition]\n_daemon = x%(__prefix_line)s\n__prefix_line = %(_daemon)s %(_daemon)s\n' +
        'failregex = ^%(__prefix_line)s <HOST>$\n',
    );
    expect(errors(loadFilter(l))).toEqual([
      `${l}:2: Definition: %(__prefix_line)s -> %(_daemon)s -> %(__prefix_line)s: an option that refers to itself`,
    ]);
  });

  it('refuses tags that multiply each other past 256 KiB before building them (found by config-fuzz)', () => {
    const tags = Array.from({ length: 20 }, (_, i) => (i < 19 ? `t${i} = <t${i + 1}><t${i + 1}>` : `t${i} = ab`));
    const m = put('m.conf', ['[Definition]', ...tags, 'failregex = ^<t0> <HOST>$', ''].join('\n'));
    const e = errors(loadFilter(m));
    expect(e).toEqual([
      expect.stringMatching(/^.*m\.conf:22: option "failregex" expands to more than 262144 characters/),
    ]);
  });

  it('reads jail.conf for the jails area: sections with values and their file:line', () => {
    const p = join(tmp.dir, 'jail.conf');
    writeFileSync(
      p,
      '[DEFAULT]\nbantime = 10m\nfilter = %(__name__)s[mode=%(mode)s]\nmode = normal\n[sshd]\nport = ssh\nenabled = true\n',
    );
    writeFileSync(join(tmp.dir, 'jail.local'), '[sshd]\nbantime = 1h\n');
    const conf = value(loadFail2banConf(p));
    expect(value(lookupOption(conf, 'sshd', 'filter'))).toBe('sshd[mode=normal]');
    expect(value(lookupOption(conf, 'sshd', 'bantime'))).toBe('1h');
    expect(conf.sections.get('sshd')?.get('bantime')?.file).toBe(join(tmp.dir, 'jail.local'));
    expect(conf.sections.get('KNOWN/sshd')?.get('bantime')).toBeUndefined(); // it came from [DEFAULT], not [sshd]
  });
});

describe('our YAML filters', () => {
  const yml = (text: string): string => {
    const p = join(tmp.dir, 'f.yaml');
    writeFileSync(p, text);
    return p;
  };
  it('refuses unknown keys with file:line and a hint', () => {
    expect(errors(loadFilter(yml('failregex:\n  - ^x <ADDR>$\nmaxline: 2\n')))).toEqual([
      `${join(tmp.dir, 'f.yaml')}:3:1: maxline: unknown key (did you mean "maxlines"?)`,
    ]);
  });
  it('refuses a bad regex at its list item line, and YAML syntax errors at their line', () => {
    expect(errors(loadFilter(yml('failregex:\n  - ^x <ADDR>$\n  - ^(y <ADDR>$\n')))[0]).toMatch(
      /f\.yaml:3: failregex: cannot translate to JavaScript: missing \)/,
    );
    expect(errors(loadFilter(yml('failregex: [\n  - a\n')))[0]).toMatch(/f\.yaml:\d+:\d+: /);
  });
});
