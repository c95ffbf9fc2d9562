import { describe, expect, it } from '@jest/globals';
import { splitCommandTemplate, substituteMacros } from '../../src/core/argv-template.js';

const macros = (n: string) => ['TARGET', 'PORT', 'MODE'].includes(n);

describe('splitCommandTemplate', () => {
  it('splits with shell-style quoting and keeps macros', () => {
    const r = splitCommandTemplate(
      `/sbin/iptables -I INPUT -s $TARGET$ -j LOG --log-prefix 'Portsentry: dropping: '`,
      macros,
    );
    expect(r).toEqual({
      ok: true,
      argv: ['/sbin/iptables', '-I', 'INPUT', '-s', '$TARGET$', '-j', 'LOG', '--log-prefix', 'Portsentry: dropping: '],
    });
  });
  it.each([
    ['a && b', '"&"'],
    ['a | b', '"|"'],
    ['a; b', '";"'],
    ['a > /tmp/x', '">"'],
    ['echo `id`', 'backquote'],
    ['echo $(id)', 'shell expansion'],
    ['echo $HOME', 'shell expansion'],
    ['echo "$(id)"', 'shell expansion'],
  ])('refuses %j', (text, why) => {
    const r = splitCommandTemplate(text, macros);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(why);
  });
  it('substitutes per argument without re-splitting', () => {
    expect(
      substituteMacros(['route', 'add', '-host', '$TARGET$', 'x$PORT$y'], { TARGET: '192.0.2.9 ; rm', PORT: '80' }),
    ).toEqual(['route', 'add', '-host', '192.0.2.9 ; rm', 'x80y']);
  });
});
