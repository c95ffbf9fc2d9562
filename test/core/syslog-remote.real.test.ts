import { afterAll, afterEach, describe, expect } from '@jest/globals';
import { hostname } from 'node:os';
import { FACILITY, SEVERITY } from '../../src/core/syslog.js';
import { openRemoteSyslog, parseSyslogAddress, type RemoteSyslog } from '../../src/core/syslog-remote.js';
import { itReal } from '../helpers/real.js';
import { freeSyslogPort, startRsyslog, type Rsyslog } from '../helpers/rsyslog.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

// The remote syslog sink against a real rsyslogd of the test's own on loopback (UDP and TCP): the line as the
// server sees it, a send error said once, a TCP server that goes away and comes back.
const real = itReal({ commands: ['rsyslogd'] });
const { dir, cleanup } = makeTmpDir('st-rsyslog-');
afterAll(() => cleanup());
const open: (RemoteSyslog | Rsyslog)[] = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('port' in x ? x.stop() : x.close());
});

const STAMP = /<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /;
const sink = (text: string, notes: string[]): RemoteSyslog => {
  const a = parseSyslogAddress(text);
  if (!a.ok) throw new Error(a.message);
  const s = openRemoteSyslog({
    address: a.value,
    tag: 'test',
    facility: FACILITY.daemon,
    severity: SEVERITY.notice,
    pid: () => 4242,
    onTrouble: (t) => notes.push(t),
  });
  open.push(s);
  return s;
};

describe('remote syslog (syslog-client) to a real rsyslogd', () => {
  for (const transport of ['udp', 'tcp'] as const)
    real(`${transport}: RFC 3164 with our host name, facility and severity, "tag[pid]: message"`, async () => {
      const port = await freeSyslogPort();
      const srv = await startRsyslog(dir, port, `basic-${transport}`);
      open.push(srv);
      const notes: string[] = [];
      const s = sink(`${transport}://127.0.0.1:${port}`, notes);
      s.log('attackalert: Connect from host: 192.0.2.5/192.0.2.5 to TCP port: 31337');
      s.log('a warning', SEVERITY.warning);
      const lines = await waitFor(() => (srv.lines().length >= 2 ? srv.lines() : null), { what: 'two lines' });
      expect(lines.map((l) => l.replace(STAMP, '<$1>STAMP '))).toEqual([
        `daemon notice <29>STAMP ${hostname()} test[4242]: attackalert: Connect from host: 192.0.2.5/192.0.2.5 to TCP port: 31337`,
        `daemon warning <28>STAMP ${hostname()} test[4242]: a warning`,
      ]);
      expect(notes).toEqual([]);
    });

  real('udp: a send that fails is said once, the lines after it still arrive, and the recovery is said', async () => {
    const port = await freeSyslogPort();
    const srv = await startRsyslog(dir, port, 'udp-error');
    open.push(srv);
    const notes: string[] = [];
    const s = sink(`udp://127.0.0.1:${port}`, notes);
    // Past the largest UDP datagram: the kernel refuses the send (EMSGSIZE), nothing leaves.
    s.log('x'.repeat(70_000));
    s.log('y'.repeat(70_000));
    await waitFor(() => s.idle(), { what: 'both sends done' });
    expect(notes).toEqual([expect.stringMatching(/^remote syslog udp:\/\/127\.0\.0\.1:\d+: .*EMSGSIZE.*lost until/)]);
    s.log('after');
    await waitFor(() => srv.lines().some((l) => l.endsWith('test[4242]: after')), { what: 'the line after' });
    expect(notes[1]).toBe(`remote syslog udp://127.0.0.1:${port}: sending again (2 lines lost)`);
  });

  real('tcp: a server that goes away is said once; lines meanwhile are lost, counted; it reconnects', async () => {
    const port = await freeSyslogPort();
    const first = await startRsyslog(dir, port, 'tcp-first');
    const notes: string[] = [];
    const s = sink(`tcp://127.0.0.1:${port}`, notes);
    s.log('one');
    await waitFor(() => first.lines().some((l) => l.endsWith(': one')), { what: 'line one' });
    await first.stop();
    await waitFor(() => notes.length === 1, { what: 'the server gone said' });
    expect(notes[0]).toMatch(
      /^remote syslog tcp:\/\/127\.0\.0\.1:\d+: .*; lines to it are lost until it answers again$/,
    );
    for (const n of ['two', 'three']) s.log(n);
    await waitFor(() => s.idle(), { what: 'the refused sends done' });
    expect(notes).toHaveLength(1);
    const second = await startRsyslog(dir, port, 'tcp-second');
    open.push(second);
    s.log('four');
    await waitFor(() => second.lines().some((l) => l.endsWith(': four')), { what: 'line four' });
    expect(notes[1]).toBe(`remote syslog tcp://127.0.0.1:${port}: sending again (2 lines lost)`);
    expect(second.lines().filter((l) => /: (two|three)$/.test(l))).toEqual([]);
  });
});
