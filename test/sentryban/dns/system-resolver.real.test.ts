import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { execa } from 'execa';
import { join } from 'node:path';
import { itReal } from '../../helpers/real.js';
import { makeTmpDir } from '../../helpers/tmp.js';
import { repo } from '../daemon/run-daemon.js';
import { privateResolverArgv } from './private-resolver.js';

// HostResolver over the real getaddrinfo (glibc: nsswitch, /etc/hosts, resolv.conf) in a private mount and network
// namespace: answers from our /etc/hosts, a failing name, and a name server that never answers.
type Out = {
  results: { name: string; addrs: string[]; error: string | null; ms: number }[];
  cachedAgain: boolean;
  lookups: number;
  inFlightAfter: number;
  queries: number;
};
let dir = '';
let cleanup = (): void => {};
beforeAll(() => {
  ({ dir, cleanup } = makeTmpDir('sentryban-dns-'));
});
afterAll(() => cleanup());

const hosts = {
  'both.example': ['192.0.2.10', '2001:db8::10'],
  'v4.example': ['198.51.100.4'],
  'v6.example': ['2001:db8::6'],
};
const run = async (opts: object, resolvConf?: string): Promise<Out> => {
  const argv = privateResolverArgv(dir, { hosts, ...(resolvConf ? { resolvConf } : {}) }, [
    'node',
    join(repo, 'test/fixtures/dns/resolve-names.mjs'),
    join(repo, 'dist'),
    JSON.stringify(opts),
  ]);
  const r = await execa(argv[0] as string, argv.slice(1), { reject: false, timeout: 30_000 });
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Out;
};
const real = itReal({ root: true, commands: ['unshare', 'ip'] });

describe('system resolver (getaddrinfo in a private namespace)', () => {
  real('resolves names from /etc/hosts, v4 and v6, and reports a name that does not resolve', async () => {
    const o = await run({ names: ['both.example', 'v4.example', 'v6.example', 'missing.example'] });
    expect(o.results.map((r) => [r.name, r.addrs.sort(), r.addrs.length ? null : typeof r.error])).toEqual([
      ['both.example', ['192.0.2.10', '2001:db8::10'], null],
      ['v4.example', ['198.51.100.4'], null],
      ['v6.example', ['2001:db8::6'], null],
      ['missing.example', [], 'string'],
    ]);
    expect(o.results[3]!.error).toMatch(/^(ENOTFOUND|EAI_AGAIN|ENODATA)$/);
    expect(o.cachedAgain).toBe(true);
    expect(o.lookups).toBe(4);
  });

  real(
    "a name server that never answers costs the timeout, not getaddrinfo's wait, and the bound holds",
    async () => {
      const o = await run(
        {
          hole: true,
          names: ['slow1.example', 'slow2.example', 'both.example'],
          resolver: { timeoutMs: 400, maxInFlight: 1 },
        },
        'nameserver 127.0.0.1\noptions timeout:3 attempts:1\n',
      );
      expect(o.results.map((r) => r.error)).toEqual([
        'timed out after 400 ms',
        'timed out after 400 ms (waiting for a free lookup slot)',
        'timed out after 400 ms (waiting for a free lookup slot)',
      ]);
      for (const r of o.results) expect(r.ms).toBeLessThan(2500);
      expect(o.queries).toBeGreaterThan(0); // the lookup really went to the (silent) server
      expect(o.lookups).toBe(1); // one getaddrinfo at a time: the others never started
      expect(o.inFlightAfter).toBe(1); // the hung call still holds its thread
      expect(o.cachedAgain).toBe(true);
    },
    30_000,
  );
});
