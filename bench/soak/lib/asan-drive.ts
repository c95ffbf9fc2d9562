// A drive of every function the native addon exports, with good and bad arguments, written to a file and run
// by node (with the sanitizer runtimes preloaded by the caller): argv[2] is the addon, argv[3] the folder of
// node_modules (for unix-dgram). Prints one line per failed expectation and "drive: N checks" at the end; exit 1
// when one failed. Plain JS: it runs as is, in a sanitized tree or not.
export const DRIVE_JS = String.raw`
import { createRequire } from 'node:module';
import net from 'node:net';
import { mkdtempSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
const require = createRequire(import.meta.url);
const [addonPath, modules] = process.argv.slice(2);
const a = require(addonPath);
const unix = require(join(modules, 'unix-dgram'));
let checks = 0, failed = 0;
const expect = (what, ok) => { checks++; if (!ok) { failed++; console.log('FAILED: ' + what); } };
const throws = (what, fn) => { let t = false; try { fn(); } catch { t = true; } expect(what + ' throws', t); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (cond, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(5);
  return cond();
};
const work = mkdtempSync(join(tmpdir(), 'drive-'));

// peerCred
await new Promise((res) => {
  const path = join(work, 'pc.sock');
  const srv = net.createServer((c) => {
    const r = a.peerCred(c._handle.fd);
    const mine = Array.isArray(r) && r[0] === process.pid && r[1] === process.getuid();
    expect('peerCred of a unix peer is [pid, uid, gid]', mine);
    c.destroy(); srv.close(res);
  }).listen(path, () => net.connect(path).on('error', () => {}));
});
expect('peerCred(bad fd) is -EBADF', a.peerCred(1 << 20) === -9);
throws('peerCred(-1)', () => a.peerCred(-1));
throws('peerCred("x")', () => a.peerCred('x'));

// bindTest
expect('bindTest on port 0 binds', a.bindTest(false, 4, 0) === 0 && a.bindTest(true, 6, 0) === 0);
throws('bindTest(false, 5, 1)', () => a.bindTest(false, 5, 1));
throws('bindTest(false, 4, 70000)', () => a.bindTest(false, 4, 70000));

// spawn
const exits = [];
for (let i = 0; i < 50; i++) a.spawn(['sh', '-c', 'exit ' + (i % 3)], (code, sig) => exits.push(code));
const all50 = await until(() => exits.length === 50);
expect('50 commands end with their codes', all50 && exits.filter((c) => c === 2).length === 16);
expect('a missing program is -ENOENT', a.spawn(['/nonexistent/x'], () => {}) === -2);
throws('spawn([])', () => a.spawn([], () => {}));
throws('spawn([1])', () => a.spawn([1], () => {}));
throws('spawn(["true", 1])', () => a.spawn(['true', 1], () => {}));
throws('spawn(["true"], 1)', () => a.spawn(['true'], 1));
const huge = ['true']; huge.length = 4294967295;
throws('spawn(argv of 2^32-1 entries)', () => a.spawn(huge, () => {}));

// trap: listen, connections (plain, reset), finish, close with connections pending
const t = a.trap;
const port = await new Promise((res) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
});
const seen = [];
const id = t.listen(port, (cid, family, v4, v6, alerted) => { seen.push({ cid, family, v4, v6, alerted }); });
expect('listen gives an id', id > 0);
throws('listen(70000)', () => t.listen(70000, () => {}));
throws('listen(1, 2)', () => t.listen(1, 2));
const probe = (opts) => new Promise((res) => {
  const s = net.connect({ port, host: '127.0.0.1', ...opts });
  let got = '';
  s.on('error', () => res('error'));
  s.on('data', (d) => { got += d; });
  s.on('close', () => res(got));
  s.setTimeout(5000, () => s.destroy());
});
const p1 = probe({});
expect('one peer seen', await until(() => seen.length === 1) && seen[0].family === 4 && seen[0].v4 === 0x7f000001);
expect('finish sends the banner', t.finish(seen[0].cid, 'GO AWAY\r\n') === true && (await p1) === 'GO AWAY\r\n');
expect('finish twice is false', t.finish(seen[0].cid, null) === false);
throws('finish("x")', () => t.finish('x'));
// One at a time: the trap's backlog is 5 (as 1.2), a burst would lose the reset ones from a full queue.
for (let i = 0; i < 20; i++) {
  const s = net.connect({ port, host: '127.0.0.1' }, () => (i % 2 ? s.resetAndDestroy() : s.end()));
  s.on('error', () => {});
  await until(() => seen.length === 2 + i);
}
expect('20 more peers seen', seen.length === 21);
expect('20 pending', t.pending() === 20);
for (const s of seen.slice(1, 11)) t.finish(s.cid, 'x'.repeat(100000));
expect('close with 10 pending', t.close(id) === true && t.pending() === 0);
expect('close twice is false', t.close(id) === false);

// alert: open, snapshot, ready, a peer alerted from C, ntop
const logPath = join(work, 'log.sock');
const got = [];
const col = unix.createSocket('unix_dgram', (b) => got.push(b.toString('latin1')));
col.bind(logPath);
const ign = join(work, 'ignore');
writeFileSync(ign, '192.0.2.1\n');
const st = statSync(ign, { bigint: true });
const key = [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs];
const cidrs = new Uint8Array(18 * 3);
cidrs.set([4, 32, 192, 0, 2, 1], 0); cidrs.set([6, 128], 18); cidrs.set([6, 0], 36); cidrs[36] = 6;
expect('alertOpen', t.alertOpen(logPath, 12, 'portsentry[1]') === true);
throws('alertOpen with an ident of 200 bytes', () => t.alertOpen(logPath, 12, 'y'.repeat(200)));
throws('alertOpen with a path of 200 bytes', () => t.alertOpen('/' + 'p'.repeat(199), 12, 'x'));
expect('alertSnapshot', t.alertSnapshot([[ign, key], [join(work, 'absent'), null]], cidrs.subarray(0, 36)) === true);
throws('alertSnapshot with a bad cidr', () => t.alertSnapshot([], new Uint8Array([4, 33, ...new Array(16).fill(0)])));
throws('alertSnapshot with a bad file key', () => t.alertSnapshot([[ign, [1n, 2n]]], new Uint8Array(0)));
throws('alertSnapshot with 17 bytes', () => t.alertSnapshot([], new Uint8Array(17)));
expect('alertSnapshot again', t.alertSnapshot([[ign, key]], cidrs.subarray(0, 18)) === true);
expect('alertReady', t.alertReady(true) === true);
const seen2 = [];
const id2 = t.listen(port, (cid, family, v4, v6, alerted) => { seen2.push(alerted); t.finish(cid, null); });
await probe({});
expect('the alert left from C', await until(() => got.length === 1) && seen2[0] === true);
const line = / portsentry\[1\]: attackalert: Connect from host: 127\.0\.0\.1\/127\.0\.0\.1 to TCP port: /;
expect('with the ident given to the last alertOpen that was accepted', line.test(got[0] || ''));
expect('alertStats', t.alertStats().sent === 1);
t.close(id2);
expect('alertSnapshot(null)', t.alertSnapshot(null) === true && t.alertReady(true) === false);
expect('ntop v4', t.ntop(new Uint8Array([192, 0, 2, 1])) === '192.0.2.1');
const mapped = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 192, 0, 2, 1]);
expect('ntop v4-mapped', t.ntop(mapped) === '192.0.2.1');
expect('ntop ::2 left to JS', t.ntop(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2])) === null);
expect('ntop of a Uint32Array(4)', typeof t.ntop(new Uint32Array(4)) === 'string');
throws('ntop(Uint8Array(5))', () => t.ntop(new Uint8Array(5)));
col.close();
console.log('drive: ' + checks + ' checks, ' + failed + ' failed');
process.exit(failed ? 1 : 0);
`;
