// A drive of every function the native addons export, with good and bad arguments, written to a file and run
// by node (with the sanitizer runtimes preloaded by the caller): argv[2] is the folder of the addons
// (fastspawn.node, bindtest.node, trap.node, peercred.node), argv[3] the folder of node_modules (for
// unix-dgram), argv[4] the folder of the alert tables (good.bin, over the file "ignore" there; asan.ts writes
// them with src/portsentry/alert-table.ts). Prints one line per failed expectation and "drive: N checks" at the
// end; exit 1 when one failed. Plain JS: it runs as is, in a sanitized tree or not.
export const DRIVE_JS = String.raw`
import { createRequire } from 'node:module';
import net from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
const require = createRequire(import.meta.url);
const [addons, modules, tables] = process.argv.slice(2);
const load = (name) => require(join(addons, name + '.node'));
const a = { ...load('fastspawn'), ...load('bindtest'), ...load('peercred') };
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
const t = load('trap');
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

// alert: open, table, ready, a peer alerted from C, preview; tables cut, changed byte by byte, of another
// version
const al = t.alert;
const logPath = join(work, 'log.sock');
const got = [];
const col = unix.createSocket('unix_dgram', (b) => got.push(b.toString('latin1')));
col.bind(logPath);
const good = new Uint8Array(readFileSync(join(tables, 'good.bin')));
expect('tableVersion is 1', al.tableVersion === 1);
expect('open', al.open(logPath) === true);
throws('open with a path of 200 bytes', () => al.open('/' + 'p'.repeat(199)));
throws('open()', () => al.open());
expect('table', al.table(good) === undefined);
throws('table("x")', () => al.table('x'));
throws('table(Uint16Array)', () => al.table(new Uint16Array(8)));
let refused = 0;
for (let n = 0; n < good.length; n += Math.max(1, good.length >> 9)) {
  try { al.table(good.subarray(0, n)); } catch { refused++; }
}
expect('every table cut short is refused', refused === Math.ceil(good.length / Math.max(1, good.length >> 9)));
let odd = 0;
for (let i = 0; i < good.length; i++) {
  const b = Uint8Array.from(good);
  b[i] ^= 0xff;
  try { al.table(b); } catch { odd++; }
}
expect('tables with one byte changed: some refused', odd > 0);
const lengths = Uint8Array.from(good);
lengths.set([0xff, 0xff, 0xff, 0x7f], 12);
throws('a table whose first count is 2^31', () => al.table(lengths));
const other = Uint8Array.from(good);
other[0] = 2;
throws('a table of another version', () => al.table(other));
expect('no table: ready is false', al.ready(true) === false);
al.table(good);
expect('ready', al.ready(true) === true);
const seen2 = [];
const id2 = t.listen(port, (cid, family, v4, v6, alerted) => { seen2.push(alerted); t.finish(cid, null); });
await probe({});
expect('the alert left from C', await until(() => got.length === 1) && seen2[0] === true);
const line = / portsentry\[1\]: attackalert: Connect from host: 127\.0\.0\.1\/127\.0\.0\.1 to TCP port: /;
expect('with the table\'s header', line.test(got[0] || ''));
expect('stats', al.stats().sent === 1 && al.stats().handed === 0);
await probe({});
expect('the next peer went to JS (disarmed)', await until(() => seen2.length === 2) && seen2[1] === false);
t.close(id2);
const now = Math.floor(Date.now() / 1000);
expect('preview v4', /host: 198\.51\.100\.1\/198\.51\.100\.1 to TCP port: 9$/.test(al.preview(new Uint8Array([198, 51, 100, 1]), 9, now)));
expect('preview of an ignored peer is null', al.preview(new Uint8Array([192, 0, 2, 1]), 9, now) === null);
const mapped = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 198, 51, 100, 1]);
expect('preview v4-mapped', /198\.51\.100\.1\/198\.51\.100\.1 /.test(al.preview(mapped, 9, now)));
expect('preview ::2 left to JS', al.preview(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]), 1, now) === null);
expect('preview far from the clock is null', al.preview(new Uint8Array(4), 1, now + 100000) === null);
throws('preview(Uint8Array(5))', () => al.preview(new Uint8Array(5), 1, now));
throws('preview(Uint32Array(4))', () => al.preview(new Uint32Array(4), 1, now));
throws('preview port 70000', () => al.preview(new Uint8Array(4), 70000, now));
expect('table(null)', al.table(null) === undefined && al.ready(true) === false);
col.close();
console.log('drive: ' + checks + ' checks, ' + failed + ' failed');
process.exit(failed ? 1 : 0);
`;
