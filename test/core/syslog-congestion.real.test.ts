import { describe, expect } from '@jest/globals';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openSyslog } from '../../src/core/syslog.js';
import { itReal } from '../helpers/real.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

// A syslog socket that does not read for a while (as a busy rsyslogd): the kernel queues 10 datagrams, then
// sends fail with EAGAIN. glibc's syslog() blocks there; our sink must queue and deliver every line, in order.
const RECEIVER = `
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[1] + '.ready', 'w').close()
time.sleep(1.0)
s.settimeout(2.0)
got = []
try:
    while len(got) < int(sys.argv[2]):
        got.append(s.recv(2048).decode().split(': ', 1)[1])
except socket.timeout:
    pass
print('\\n'.join(got))
`;

describe('syslog sink under congestion', () => {
  itReal({ commands: ['python3'] })('delivers a burst larger than the socket queue, in order', async () => {
    const tmp = makeTmpDir('syslog-cong-');
    try {
      const path = join(tmp.dir, 'log.sock');
      const n = 300;
      const rx = execa('python3', ['-c', RECEIVER, path, String(n)], { timeout: 20000 });
      await waitFor(() => existsSync(`${path}.ready`), { what: 'receiver' });
      const sink = openSyslog({ path, tag: 'test' });
      for (let i = 0; i < n; i++) sink.log(`line ${i}`);
      const { stdout } = await rx;
      sink.close();
      expect(stdout.split('\n')).toEqual(Array.from({ length: n }, (_, i) => `line ${i}`));
    } finally {
      tmp.cleanup();
    }
  });

  itReal({ commands: ['python3'] })(
    'past its bound, the lines dropped are counted in one note where they were',
    async () => {
      const tmp = makeTmpDir('syslog-cong-');
      try {
        const path = join(tmp.dir, 'log.sock');
        const n = 300;
        const rx = execa('python3', ['-c', RECEIVER, path, String(n)], { timeout: 20000 });
        await waitFor(() => existsSync(`${path}.ready`), { what: 'receiver' });
        const sink = openSyslog({ path, tag: 'test', maxPending: 50, droppedNote: (k) => `dropped ${k}` });
        for (let i = 0; i < n; i++) sink.log(`line ${i}`);
        const { stdout } = await rx;
        sink.close();
        const got = stdout.split('\n');
        const kept = got.length - 1;
        // The kernel's queue plus ours held `kept` lines; the rest are one note, last, with their count.
        expect(kept).toBeGreaterThanOrEqual(50);
        expect(got).toEqual([...Array.from({ length: kept }, (_, i) => `line ${i}`), `dropped ${n - kept}`]);
      } finally {
        tmp.cleanup();
      }
    },
  );
});
