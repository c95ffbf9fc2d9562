import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { modeFromDefault, readAssignments } from '../../src/portsentry/default-file.js';

const F = '/etc/default/portsentry';
const EXAMPLE = fileURLToPath(new URL('../../packaging/default/portsentry', import.meta.url));
// Debian's file as its portsentry package ships it (1.2-14+b1), byte for byte.
const DEBIAN = `# /etc/default/portsentry
#  
# This file is read by /etc/init.d/portsentry. See the portsentry.8 
# manpage for details.
#
# The options in this file refer to commandline arguments (all in lowercase)
# of portsentry. Use only one tcp and udp mode at a time.
#
TCP_MODE="tcp"
UDP_MODE="udp"
`;

describe('/etc/default/portsentry (Debian init script semantics)', () => {
  it("runs Debian's file and our example as -tcp and -udp", () => {
    for (const text of [DEBIAN, readFileSync(EXAMPLE, 'utf8')]) {
      expect(modeFromDefault(text, F, 'tcp')).toEqual({ kind: 'run', mode: 'tcp' });
      expect(modeFromDefault(text, F, 'udp')).toEqual({ kind: 'run', mode: 'udp' });
    }
  });

  it('takes each protocol its own family of modes, and refuses the rest with the init script words', () => {
    expect(modeFromDefault('TCP_MODE=atcp\nUDP_MODE=sudp\n', F, 'tcp')).toEqual({ kind: 'run', mode: 'atcp' });
    expect(modeFromDefault('TCP_MODE=atcp\nUDP_MODE=sudp\n', F, 'udp')).toEqual({ kind: 'run', mode: 'sudp' });
    expect(modeFromDefault('TCP_MODE="stcp"\n', F, 'tcp')).toEqual({ kind: 'run', mode: 'stcp' });
    expect(modeFromDefault('TCP_MODE=udp\nUDP_MODE=udp\n', F, 'tcp')).toEqual({
      kind: 'refuse',
      message: 'udp is not a valid mode.',
    });
    expect(modeFromDefault('TCP_MODE=tcp\nUDP_MODE=-udp\n', F, 'udp')).toEqual({
      kind: 'refuse',
      message: '-udp is not a valid mode.',
    });
  });

  it('starts nothing (a skip, exit 0) for an empty mode, both empty, or no file', () => {
    expect(modeFromDefault('TCP_MODE=""\nUDP_MODE="udp"\n', F, 'tcp')).toMatchObject({ kind: 'skip' });
    expect(modeFromDefault('TCP_MODE=""\nUDP_MODE="udp"\n', F, 'udp')).toEqual({ kind: 'run', mode: 'udp' });
    expect(modeFromDefault('UDP_MODE=audp\n', F, 'tcp')).toMatchObject({ kind: 'skip' });
    expect(modeFromDefault('TCP_MODE=\nUDP_MODE=\n', F, 'udp')).toEqual({
      kind: 'skip',
      note: `Not starting anti portscan daemon (no modes in ${F}).`,
    });
    expect(modeFromDefault('# nothing\n', F, 'tcp')).toMatchObject({ kind: 'skip' });
    expect(modeFromDefault(null, F, 'tcp')).toMatchObject({ kind: 'skip' });
  });

  it('reads assignments as sh does: quotes, export, comments, the last one winning', () => {
    const text = [
      '# a comment',
      'export TCP_MODE=tcp',
      "UDP_MODE='udp'  # trailing comment",
      'TCP_MODE="a"tcp',
      'OTHER=$HOME/x',
      'echo hello',
      'X=a#b',
      '',
    ].join('\n');
    const r = readAssignments(text, F);
    expect(r.ok && Object.fromEntries([...r.vars].map(([k, v]) => [k, v.value]))).toEqual({
      TCP_MODE: 'atcp',
      UDP_MODE: 'udp',
      X: 'a#b',
    });
    expect(modeFromDefault(text, F, 'tcp')).toEqual({ kind: 'run', mode: 'atcp' });
  });

  it('refuses a mode sh would expand, naming file:line, rather than read it differently', () => {
    expect(modeFromDefault('TCP_MODE=tcp\nUDP_MODE="$MODE"\n', F, 'tcp')).toEqual({
      kind: 'refuse',
      message: `${F}:2: UDP_MODE: only a plain or quoted value is read here (no $, \`, \\ or unclosed quotes)`,
    });
    expect(modeFromDefault('TCP_MODE="tcp\n', F, 'tcp')).toMatchObject({ kind: 'refuse' });
    expect(modeFromDefault('TCP_MODE=`echo tcp`\n', F, 'tcp')).toMatchObject({ kind: 'refuse' });
  });
});
