import { describe, expect, it } from '@jest/globals';
import { parseConf } from '../../src/portsentry/conf.js';
import { atoi, retrieveToken, splitChunks } from '../../src/portsentry/conf-scan.js';

const tok = (text: string, key: string) => retrieveToken(splitChunks(text), key);

describe('1.2 token rules', () => {
  it.each([
    ['KEY="v"', 'v'],
    ['KEY = "v"', 'v'],
    ['KEY   ="v"', 'v'],
    ['KEY="v" trailing', 'v'],
    ['KEY="v', 'v'],
    ['KEY=""', ''],
    ['KEY="a\tb"', 'a'],
    ['KEY="a\r\n', 'a'],
  ])('%j -> %j', (text, want) => {
    expect(tok(`${text}\n`, 'KEY')).toMatchObject({ kind: 'value', value: want });
  });

  it.each([[' KEY="v"'], ['KEY\t="v"'], ['#KEY="v"'], ['key="v"'], ['KEYS="v"']])('%j does not match', (text) => {
    expect(tok(`${text}\n`, 'KEY').kind).toBe('absent');
  });
  it('first match wins', () => {
    expect(tok('K="1"\nK="2"\n', 'K')).toMatchObject({ value: '1', line: 1 });
  });
  it('KILL_RUN_CMD does not take a KILL_RUN_CMD_FIRST line', () => {
    expect(tok('KILL_RUN_CMD_FIRST="1"\nKILL_RUN_CMD="x"\n', 'KILL_RUN_CMD')).toMatchObject({ value: 'x', line: 2 });
  });
  it('the odd false match of 1.2 (KEY anywhere, "=" at its column)', () => {
    expect(tok('KILL_RUN_CMD="a SCAN_TRIGGER b"\n', 'SCAN_TRIGGER')).toMatchObject({
      kind: 'value',
      value: 'a SCAN_TRIGGER b',
    });
  });
  it('missing quotes', () => {
    expect(tok('K=1\n', 'K')).toEqual({ kind: 'no-quotes', line: 1 });
  });
  it('a NUL hides the rest of the line', () => {
    expect(tok('K\0="1"\nK="2"\n', 'K')).toMatchObject({ value: '2' });
  });
  it('long lines are read in 1023-byte pieces, as fgets does', () => {
    const text = `${'x'.repeat(1023)}K="1"\n`;
    expect(tok(text, 'K')).toMatchObject({ value: '1', line: 1 });
    expect(splitChunks('a'.repeat(100000)).length).toBe(Math.ceil(100000 / 1023));
  });
  it.each([
    ['12', 12],
    [' 7x', 7],
    ['abc', 0],
    ['-3', -3],
    ['', 0],
    ['99999999999', 2147483647],
  ])('atoi(%j)=%d', (s, n) => {
    expect(atoi(s)).toBe(n);
  });
});

describe('parseConf', () => {
  const base = 'BLOCKED_FILE="/b"\nHISTORY_FILE="/h"\nIGNORE_FILE="/i"\n';
  it('reads ports as 1.2 does and warns with file:line where 1.2 silently misread', () => {
    const many = Array.from({ length: 66 }, (_, i) => i + 1000).join(',');
    const r = parseConf(`${base}TCP_PORTS="1,,80-90, 23,abc"\nUDP_PORTS="${many}"\n`, 'p.conf');
    expect(r.conf.tcpPorts).toEqual({ ports: [1, 80, 23, 0], line: 4 });
    const udp = r.conf.udpPorts;
    expect(udp !== null && udp !== 'no-quotes' && udp.ports.length).toBe(64);
    const msgs = r.warnings.map((w) => `${w.file}:${w.line}: ${w.path}: ${w.message}`);
    expect(msgs.some((m) => m.startsWith('p.conf:4: TCP_PORTS: "80-90"'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('p.conf:4: TCP_PORTS: "abc"'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('p.conf:5: UDP_PORTS: 66 ports listed'))).toBe(true);
  });
  it('numbers read with atoi and a warning', () => {
    const r = parseConf(`${base}BLOCK_TCP="1abc"\nSCAN_TRIGGER="x"\n`, 'p.conf');
    expect(r.conf.blockTcp).toBe(1);
    expect(r.conf.scanTrigger).toBe(0);
    expect(r.warnings.map((w) => w.line)).toEqual([4, 5]);
  });
  it("absent SCAN_TRIGGER logs 1.2's line; quotes missing logs too", () => {
    const r = parseConf(`${base}BLOCK_TCP=1\n`, 'p.conf');
    expect(r.syslog).toEqual([
      'adminalert: Quotes missing from BLOCK_TCP token. Option skipped\n',
      'adminalert: ERROR: Could not read SCAN_TRIGGER option from config file. Disabling SCAN DETECTION TRIGGER',
    ]);
  });
  it('KILL_* templates are split at load; shell constructs refused with file:line', () => {
    const r = parseConf(
      `${base}KILL_ROUTE="/sbin/iptables -I INPUT -s $TARGET$ -j DROP && echo hi"\nKILL_RUN_CMD="/bin/echo '$TARGET$ x' $PORT$"\n`,
      'p.conf',
    );
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ file: 'p.conf', line: 4, path: 'KILL_ROUTE' });
    expect(r.errors[0]?.message).toMatch(/script/);
    expect(r.conf.killRunCmd?.argv).toEqual(['/bin/echo', '$TARGET$ x', '$PORT$']);
  });
  it.each(['| cat', '> /tmp/x', '; ls', '`id`', '$(id)'])('refuses %j', (bad) => {
    expect(parseConf(`${base}KILL_RUN_CMD="/bin/echo $TARGET$ ${bad}"\n`, 'p.conf').errors).toHaveLength(1);
  });
  it('KILL_RUN_CMD_FIRST is read only with KILL_RUN_CMD', () => {
    expect(parseConf(`${base}KILL_RUN_CMD_FIRST="1"\n`, 'p').conf.killRunCmdFirst).toBe(false);
    expect(parseConf(`${base}KILL_RUN_CMD_FIRST="1"\nKILL_RUN_CMD="/bin/true"\n`, 'p').conf.killRunCmdFirst).toBe(true);
  });
  it('BLOCK_RATE_MAX (ours): off when absent or 0; bad values warned with file:line, never a 1.2 syslog line', () => {
    expect(parseConf(base, 'p').conf.blockRateMax).toBe(0);
    expect(parseConf(`${base}BLOCK_RATE_MAX="50"\n`, 'p').conf.blockRateMax).toBe(50);
    const msgs = (body: string): string[] =>
      parseConf(`${base}${body}`, 'p.conf').warnings.map((w) => `${w.file}:${w.line}: ${w.path}: ${w.message}`);
    expect(msgs('BLOCK_RATE_MAX="-5"\n')).toEqual(['p.conf:4: BLOCK_RATE_MAX: -5 is negative; read as 0 (no ceiling)']);
    expect(msgs('BLOCK_RATE_MAX="2000000"\n')).toEqual([
      'p.conf:4: BLOCK_RATE_MAX: 2000000 is above 1000000; read as 1000000',
    ]);
    expect(msgs('BLOCK_RATE_MAX="10/s"\n')).toEqual([
      'p.conf:4: BLOCK_RATE_MAX: "10/s" is not a number; read as 10, as 1.2 does',
    ]);
    const noQuotes = parseConf(`${base}SCAN_TRIGGER="0"\nBLOCK_RATE_MAX=5\n`, 'p.conf');
    expect(noQuotes.conf.blockRateMax).toBe(0);
    expect(noQuotes.syslog).toEqual([]);
    expect(noQuotes.warnings.map((w) => `${w.line}: ${w.path}`)).toEqual(['5: BLOCK_RATE_MAX']);
  });
  it('SYSLOG_REMOTE (ours): off when absent or empty; a bad address refuses the file with file:line', () => {
    expect(parseConf(base, 'p').conf.syslogRemote).toBeNull();
    expect(parseConf(`${base}SYSLOG_REMOTE=""\n`, 'p').conf.syslogRemote).toBeNull();
    expect(parseConf(`${base}SYSLOG_REMOTE="udp://127.0.0.1:5514"\n`, 'p').conf.syslogRemote?.text).toBe(
      'udp://127.0.0.1:5514',
    );
    const errs = (v: string): string[] =>
      parseConf(`${base}SYSLOG_REMOTE="${v}"\n`, 'p.conf').errors.map((e) => `${e.file}:${e.line}: ${e.message}`);
    expect(errs('127.0.0.1')).toEqual([
      'p.conf:4: expected udp://ADDRESS[:PORT] or tcp://ADDRESS[:PORT], got "127.0.0.1"',
    ]);
    expect(errs('udp://loghost')).toEqual([
      'p.conf:4: "loghost" is a host name: give its address (names are not looked up), in "udp://loghost"',
    ]);
    expect(errs('tcp://192.0.2.1:70000')).toEqual([
      'p.conf:4: port 70000 is outside 1-65535, in "tcp://192.0.2.1:70000"',
    ]);
    // Unknown to 1.2: never a syslog line of its own.
    expect(parseConf(`${base}SYSLOG_REMOTE="udp://x"\n`, 'p.conf').syslog).toEqual(parseConf(base, 'p.conf').syslog);
  });
  it('binary garbage reads as no keys, without throwing', () => {
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)).toString('latin1');
    const r = parseConf(bytes, 'g');
    expect(r.conf.blockedFile).toBeNull();
  });
});
