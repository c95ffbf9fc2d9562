import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic } from '../../../src/core/diagnostics.js';
import { ManualClock } from '../../../src/core/clock.js';
import {
  parseCommandAction,
  loadCommandActions,
  loadCommandAction,
} from '../../../src/sentryban/actions/command/load.js';
import { planCommands } from '../../../src/sentryban/actions/command/plan.js';
import { createBackend } from '../../../src/sentryban/actions/factory.js';
import { specFromOptions } from '../../../src/sentryban/actions/options.js';
import type { CommandSpec } from '../../../src/sentryban/actions/spec.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { banOf } from './bans.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const errorsOf = (text: string): string => {
  const r = parseCommandAction(text, 'actions/x.yaml');
  return r.ok ? '' : r.errors.map(formatDiagnostic).join('\n');
};

describe('command actions: load-time validation', () => {
  it('the shipped actions/*.yaml all load', async () => {
    const r = await loadCommandActions(join(root, 'actions'));
    expect(r.ok && [...r.value.keys()]).toEqual(['logger', 'nftables-user-set']);
  });

  it.each([
    [
      'ban: echo $ADRESS$\n',
      /actions\/x\.yaml:1: ban: unknown macro \$ADRESS\$ for ban \(did you mean \$ADDRESS\$\?\)/,
    ],
    ['ban: echo ok\nstart: echo $ADDRESS$\n', /actions\/x\.yaml:2: start: unknown macro \$ADDRESS\$ for start/],
    ['ban: echo a | wall\n', /ban: "\|" needs a shell/],
    ['ban: echo $(id)\n', /needs a shell/],
    ['ban: [echo ok, 3]\n', /ban\[1\]: expected a command line/],
    ['unban: echo x\n', /a command action needs at least a ban command/],
    ['ban: echo\nbna: echo\n', /x\.yaml:2: bna: unknown key \(did you mean "ban"\?\)/],
    ['ban: echo\ntimeout: soon\n', /timeout: expected a duration/],
    ['ban: [echo\n', /x\.yaml:\d+(:\d+)?: YAML/],
    [
      'params:\n  dest: {a: 1}\nban: echo $DEST$\n',
      /x\.yaml:2: params\.dest: a parameter default is a string or a number/,
    ],
    ['ban: echo\ntimeout: {s: 1}\n', /timeout: expected a duration such as "10s", got "\{"s":1\}"/],
    // fail2ban's actionstop/actionflush would never run here (bans stay in force on stop): said, not ignored.
    ['ban: echo\nstop: echo bye\n', /x\.yaml:2: stop: "stop" is never run: sentryban keeps bans in force/],
    ['ban: echo\nflush: [echo a]\n', /x\.yaml:2: flush: "flush" is never run/],
  ])('%j is refused', (text, re) => {
    expect(errorsOf(text)).toMatch(re);
  });

  it('declared params become macros; values never split an argument', async () => {
    const r = parseCommandAction('params:\n  dest: root\nban: mail -s "ban $ADDRESS$" $DEST$\n', 'a.yaml');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const ctx = { jail: 'sshd', port: 'ssh', protocol: 'tcp', params: { dest: 'a b;c' } };
    expect(planCommands(r.value, 'ban', ctx, banOf('2001:db8::1'))).toEqual([
      ['mail', '-s', 'ban 2001:db8::1', 'a b;c'],
    ]);
  });
});

describe('command actions run for real (files, no root)', () => {
  it('start, ban twice, unban, check repairs; a failing command is an ActionFailed value', async () => {
    const tmp = makeTmpDir('sb-cmd-');
    try {
      const a = await loadCommandAction(join(root, 'test', 'fixtures', 'actions', 'marker-files.yaml'));
      if (!a.ok) throw new Error(JSON.stringify(a.errors));
      const dir = join(tmp.dir, 'bans');
      const spec = specFromOptions('command', 'sshd', { action: 'marker-files', dir });
      if (!spec.ok) throw new Error('spec');
      const made = createBackend(spec.value, {
        clock: new ManualClock(),
        commandActions: new Map([['marker-files', a.value]]),
      });
      if (!made.ok) throw new Error(JSON.stringify(made.errors));
      const b = made.value;
      const bans = [banOf('192.0.2.1'), banOf('2001:db8::1')];
      expect(await b.start(bans)).toEqual({ ok: true });
      expect(await b.ban(bans[0]!)).toEqual({ ok: true });
      expect(readdirSync(dir).sort()).toEqual(['sshd 192.0.2.1', 'sshd 2001:db8::1']);
      expect(await b.unban(bans[0]!)).toEqual({ ok: true });
      expect(readdirSync(dir)).toEqual(['sshd 2001:db8::1']);
      rmSync(dir, { recursive: true });
      expect(await b.check(bans)).toMatchObject({
        ok: true,
        repaired: expect.stringContaining('start re-run with 2 ban(s)'),
      });
      expect(await b.check(bans)).toEqual({ ok: true });
      expect(readdirSync(dir).sort()).toEqual(['sshd 192.0.2.1', 'sshd 2001:db8::1']);
      rmSync(dir, { recursive: true });
      const bad = createBackend(
        { ...(spec.value as CommandSpec), params: { dir: join(tmp.dir, 'missing', 'x') } },
        { clock: new ManualClock(), commandActions: new Map([['marker-files', a.value]]) },
      );
      if (!bad.ok) throw new Error('bad');
      const out = await bad.value.ban(bans[0]!);
      expect(out.ok).toBe(false);
      if (!out.ok) {
        expect(out.failure.argv[0]).toBe('touch');
        expect(out.failure.exitCode).toBe(1);
      }
      expect(existsSync(join(tmp.dir, 'missing'))).toBe(false);
    } finally {
      tmp.cleanup();
    }
  });

  it('a command that outlives its timeout is killed and reported as an ActionFailed', async () => {
    const a = parseCommandAction('timeout: 1s\nban: sleep 20\n', 'slow.yaml');
    if (!a.ok) throw new Error('load');
    const s = specFromOptions('command', 'sshd', { action: 'slow' });
    if (!s.ok) throw new Error('spec');
    const b = createBackend(s.value, { clock: new ManualClock(), commandActions: new Map([['slow', a.value]]) });
    if (!b.ok) throw new Error('backend');
    const out = await b.value.ban(banOf('192.0.2.1'));
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.failure.stderr).toMatch(/timed out/);
      expect(out.failure.argv).toEqual(['sleep', '20']);
    }
  });

  it('the factory refuses an unknown action or parameter', async () => {
    const a = await loadCommandAction(join(root, 'test', 'fixtures', 'actions', 'marker-files.yaml'));
    if (!a.ok) throw new Error('load');
    const mk = (o: Record<string, string>) => {
      const s = specFromOptions('command', 'sshd', o);
      if (!s.ok) throw new Error('spec');
      return createBackend(s.value, { clock: new ManualClock(), commandActions: new Map([['marker-files', a.value]]) });
    };
    expect(mk({ action: 'nope' }).ok).toBe(false);
    expect(mk({ action: 'marker-files', folder: '/x' }).ok).toBe(false);
  });
});
