import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { chmodSync, readFileSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseCidr } from '../../../src/core/addr.js';
import {
  planLine,
  parseHostsFile,
  renderHostsFile,
  beginMarker,
  endMarker,
} from '../../../src/sentryban/actions/hostsdeny/plan.js';
import { HostsDenyBackend } from '../../../src/sentryban/actions/hostsdeny/apply.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { itReal } from '../../helpers/real.js';
import { banOf } from './bans.js';

const cidr = (t: string) => {
  const c = parseCidr(t);
  if (!c) throw new Error(t);
  return c;
};
const backend = (file: string, jail = 'sshd') =>
  new HostsDenyBackend({ backend: 'hostsdeny', jail, file, daemonList: 'ALL' });

describe('hosts.deny plan', () => {
  it.each([
    ['192.0.2.1', 'ALL: 192.0.2.1'],
    ['2001:db8::1', 'ALL: [2001:db8::1]'],
    ['::ffff:192.0.2.9', 'ALL: 192.0.2.9'],
    ['198.51.100.0/24', 'ALL: 198.51.100.0/255.255.255.0'],
    ['203.0.113.77/20', 'ALL: 203.0.112.0/255.255.240.0'],
    ['2001:db8:1::/48', 'ALL: [2001:db8:1::]/48'],
  ])('%s -> %s', (t, line) => {
    expect(planLine('ALL', cidr(t))).toBe(line);
  });

  it('keeps every byte outside our block, for any surrounding text', () => {
    const text = fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\r', '#', ':', 'é', '\t') });
    fc.assert(
      fc.property(text, text, fc.array(fc.constantFrom('ALL: 192.0.2.1', 'ALL: [2001:db8::1]')), (a, b, lines) => {
        const before = a.length > 0 && !a.endsWith('\n') ? `${a}\n` : a;
        const file = renderHostsFile({ before, lines: [], after: b }, lines, 'sshd');
        const parsed = parseHostsFile(file, 'sshd');
        expect(parsed.lines).toEqual([...new Set(lines)]);
        expect(renderHostsFile(parsed, [], 'sshd')).toBe(before + b);
      }),
    );
  });

  it('finds only an exact marker line', () => {
    const f = `#${beginMarker('sshd')}\nALL: 10.0.0.1\n`;
    expect(parseHostsFile(f, 'sshd').lines).toEqual([]);
  });
});

describe('hosts.deny backend on a real file', () => {
  const tmp = makeTmpDir('sb-hd-');
  afterEach(() => {
    /* files are per test */
  });
  const theirs = '# their header\r\nsshd: 203.0.113.5\nALL: 192.0.2.1\n\n# tail without newline';

  it('ban, ban again, unban: one line, theirs untouched, atomic rename keeps the mode', async () => {
    const file = join(tmp.dir, 'a.deny');
    writeFileSync(file, theirs);
    chmodSync(file, 0o640);
    const b = backend(file);
    expect(await b.ban(banOf('192.0.2.1'))).toEqual({ ok: true });
    expect(await b.ban(banOf('192.0.2.1'))).toEqual({ ok: true });
    expect(await b.ban(banOf('2001:db8::1'))).toEqual({ ok: true });
    const text = readFileSync(file, 'latin1');
    expect(text).toBe(`${theirs}\n${beginMarker('sshd')}\nALL: 192.0.2.1\nALL: [2001:db8::1]\n${endMarker('sshd')}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    await b.unban(banOf('192.0.2.1'));
    await b.unban(banOf('192.0.2.1'));
    expect(readFileSync(file, 'latin1')).toBe(
      `${theirs}\n${beginMarker('sshd')}\nALL: [2001:db8::1]\n${endMarker('sshd')}\n`,
    );
    await b.start([]);
    expect(readFileSync(file, 'latin1')).toBe(`${theirs}\n`);
    expect(readdirSync(tmp.dir).filter((n) => n.includes('sentryban') || n.endsWith('.lock'))).toEqual([]);
  });

  it('start restores the set in one write; check repairs a line removed by hand and drops strays', async () => {
    const file = join(tmp.dir, 'b.deny');
    const b = backend(file);
    const bans = [banOf('192.0.2.7'), banOf('2001:db8::7'), banOf('198.51.100.0/24')];
    await b.start(bans);
    const full = readFileSync(file, 'latin1');
    expect(full.split('\n').filter((l) => l.startsWith('ALL:'))).toHaveLength(3);
    writeFileSync(
      file,
      full.replace('ALL: 192.0.2.7\n', '').replace('ALL: [2001:db8::7]\n', 'ALL: [2001:db8::7]\nALL: 192.0.2.99\n'),
    );
    await b.check(bans);
    expect(readFileSync(file, 'latin1')).toBe(full);
    await b.start([]);
    expect(readFileSync(file, 'latin1')).toBe('');
  });

  it('two jails share a file, each with its own block; concurrent bans lose nothing', async () => {
    const file = join(tmp.dir, 'c.deny');
    const a = backend(file, 'sshd');
    const c = backend(file, 'recidive');
    const addrs = Array.from({ length: 40 }, (_, i) => `192.0.2.${i + 10}`);
    await Promise.all(addrs.flatMap((x) => [a.ban(banOf(x)), c.ban(banOf(x, { jail: 'recidive' }))]));
    const text = readFileSync(file, 'latin1');
    expect(parseHostsFile(text, 'sshd').lines.sort()).toEqual(addrs.map((x) => `ALL: ${x}`).sort());
    expect(parseHostsFile(text, 'recidive').lines).toHaveLength(40);
    await a.start([]);
    expect(parseHostsFile(readFileSync(file, 'latin1'), 'recidive').lines).toHaveLength(40);
  });

  it('an unwritable place gives an ActionFailed value, not a throw', async () => {
    const out = await backend(join(tmp.dir, 'no', 'such', 'dir', 'hosts.deny')).ban(banOf('192.0.2.1'));
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.failure.kind).toBe('ActionFailed');
      expect(out.failure.backend).toBe('hostsdeny:sshd');
    }
    expect(existsSync(join(tmp.dir, 'no'))).toBe(false);
  });

  // tcpdmatch -d reads hosts.allow/hosts.deny from its working directory: the real tcp_wrappers parser judges
  // our lines.
  itReal({ commands: ['tcpdmatch'] })(
    'tcp_wrappers denies the banned hosts and nets, v4 and v6, and grants others',
    async () => {
      const dir = join(tmp.dir, 'tw');
      await execa('mkdir', ['-p', dir]);
      writeFileSync(join(dir, 'hosts.allow'), '');
      const b = backend(join(dir, 'hosts.deny'));
      await b.start([banOf('192.0.2.1'), banOf('2001:db8::1'), banOf('198.51.100.0/24'), banOf('2001:db8:1::/48')]);
      const access = async (a: string) =>
        (await execa('tcpdmatch', ['-d', 'sshd', a], { cwd: dir })).stdout.match(/access:\s+(\w+)/)?.[1];
      for (const a of ['192.0.2.1', '2001:db8::1', '198.51.100.9', '2001:db8:1::5'])
        expect(await access(a)).toBe('denied');
      for (const a of ['192.0.2.2', '2001:db8::2', '203.0.113.1']) expect(await access(a)).toBe('granted');
      await b.unban(banOf('192.0.2.1'));
      expect(await access('192.0.2.1')).toBe('granted');
    },
  );

  afterAll(() => tmp.cleanup());
});
