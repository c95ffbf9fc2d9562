import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { diag, type Diagnostic } from '../../core/diagnostics.js';
import type { Fields } from './fields.js';
import type { Pos, YNode } from './yaml-tree.js';

// sentryban.yaml `fleet:` (docs/fleet.md): the Redis stream a group of hosts shares bans through. Absent: no fleet.
// `publish`/`receive`: jail names, or 'all'. `origins`: host names whose bans are applied, or 'all'.
export type FleetPolicy = { kind: 'same' } | { kind: 'remaining' } | { kind: 'cap'; capSec: number };
export type JailList = { all: true } | { all: false; names: { text: string; pos: Pos }[] };
export type FleetConfig = {
  url: string; // redis:// or rediss:// (TLS), without the password
  tls: boolean;
  host: string; // the Redis server's host name or address
  port: number;
  db: number;
  username: string | null;
  password: string | null; // from the URL or `passwordfile`
  caFile: string | null; // rediss: a CA bundle other than the system's
  name: string; // the stream key; the snapshot hash is `<name>:snapshot`
  origin: string; // this host's name in the fleet
  publish: JailList;
  receive: JailList;
  origins: { all: true } | { all: false; names: string[] };
  policy: FleetPolicy;
  maxlen: number; // stream bound when the longest bantime is permanent (else trimmed by age)
  pos: Pos;
};
export const FLEET_KEYS = [
  'url',
  'passwordfile',
  'cafile',
  'name',
  'host',
  'publish',
  'receive',
  'policy',
  'origins',
  'maxlen',
] as const;
// A host or fleet name as it travels in the stream (fleet/event.ts checks received ones against the same rule).
export const FLEET_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/;

const jailList = (f: Fields, node: YNode | undefined, path: string): JailList => {
  if (!node) return { all: false, names: [] };
  if (node.kind === 'scalar' && node.text === 'all') return { all: true };
  return { all: false, names: f.list(node, path, true) };
};

export const readFleet = (f: Fields, node: YNode | undefined, configDir: string): FleetConfig | null => {
  if (!node) return null;
  const m = f.map(node, 'fleet', FLEET_KEYS);
  const urlNode = m.get('url');
  if (!urlNode) {
    f.error(node.pos, 'fleet.url', 'missing url (redis://host:port or rediss://host:port for TLS)');
    return null;
  }
  const urlText = f.string(urlNode, 'fleet.url', '');
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    f.error(urlNode.pos, 'fleet.url', `expected redis://[user[:password]@]host[:port][/db], got "${urlText}"`);
    return null;
  }
  const bad = (msg: string): null => (f.error(urlNode.pos, 'fleet.url', msg), null);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    return bad(`expected a redis:// or rediss:// URL, got "${url.protocol}"`);
  if (url.hostname === '') return bad('the URL names no host');
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,2}$/.test(dbText)) return bad(`the database is a number 0-99, got "${dbText}"`);
  if (url.search !== '' || url.hash !== '') return bad('options after ? or # are not read: give them as keys');
  let password = url.password === '' ? null : decodeURIComponent(url.password);
  const pwNode = m.get('passwordfile');
  if (pwNode) {
    const path = f.string(pwNode, 'fleet.passwordfile', '');
    if (password !== null) f.error(pwNode.pos, 'fleet.passwordfile', 'the URL has a password already: give one');
    try {
      password = readFileSync(isAbsolute(path) ? path : resolve(configDir, path), 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      f.error(
        pwNode.pos,
        'fleet.passwordfile',
        `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  const caNode = m.get('cafile');
  const caText = caNode ? f.string(caNode, 'fleet.cafile', '') : null;
  if (caNode && url.protocol !== 'rediss:') f.error(caNode.pos, 'fleet.cafile', 'a CA file is for rediss:// only');
  const nameOf = (key: string, dflt: string): string => {
    const n = m.get(key);
    const t = f.string(n, `fleet.${key}`, dflt);
    if (!FLEET_NAME.test(t)) {
      f.error(n?.pos ?? node.pos, `fleet.${key}`, `expected letters, digits, . _ - (at most 64), got "${t}"`);
    }
    return t;
  };
  const originsNode = m.get('origins');
  const origins: FleetConfig['origins'] =
    originsNode?.kind === 'scalar' && originsNode.text === 'all'
      ? { all: true }
      : { all: false, names: f.list(originsNode, 'fleet.origins', true).map((o) => o.text) };
  for (const o of originsNode && !origins.all ? f.list(originsNode, 'fleet.origins', true) : [])
    if (!FLEET_NAME.test(o.text)) f.error(o.pos, 'fleet.origins', `"${o.text}" is not a host name`);
  const receive = jailList(f, m.get('receive'), 'fleet.receive');
  if ((receive.all || receive.names.length > 0) && !origins.all && origins.names.length === 0)
    f.error(node.pos, 'fleet.origins', 'receiving jails need `origins:` (the hosts whose bans apply here, or all)');
  return {
    url: `${url.protocol}//${url.host}/${dbText}`,
    tls: url.protocol === 'rediss:',
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db: dbText === '' ? 0 : Number(dbText),
    username: url.username === '' ? null : decodeURIComponent(url.username),
    password,
    caFile: caText === null ? null : isAbsolute(caText) ? caText : resolve(configDir, caText),
    name: nameOf('name', 'sentryban'),
    origin: nameOf('host', hostname()),
    publish: jailList(f, m.get('publish'), 'fleet.publish'),
    receive,
    origins,
    policy: readPolicy(f, m.get('policy')),
    maxlen: f.int(m.get('maxlen'), 'fleet.maxlen', 100_000, 100),
    pos: node.pos,
  };
};

// `same` (the origin's bantime, from arrival), `remaining` (until the origin's expiry: the default) or
// `{cap: DURATION}` (the remaining time, at most DURATION; permanent bans end after DURATION too).
const readPolicy = (f: Fields, node: YNode | undefined): FleetPolicy => {
  if (!node) return { kind: 'remaining' };
  if (node.kind === 'scalar' && (node.text === 'same' || node.text === 'remaining')) return { kind: node.text };
  if (node.kind === 'map') {
    const m = f.map(node, 'fleet.policy', ['cap']);
    const cap = m.get('cap');
    if (!cap) {
      f.error(node.pos, 'fleet.policy', 'expected same, remaining or {cap: DURATION}');
      return { kind: 'remaining' };
    }
    const capSec = f.duration(cap, 'fleet.policy.cap', 3600);
    if (capSec <= 0) f.error(cap.pos, 'fleet.policy.cap', 'the cap is a duration above 0');
    return { kind: 'cap', capSec: Math.max(1, capSec) };
  }
  f.error(node.pos, 'fleet.policy', `expected same, remaining or {cap: DURATION}, got ${describeNode(node)}`);
  return { kind: 'remaining' };
};
const describeNode = (n: YNode): string => (n.kind === 'scalar' ? `"${n.text}"` : `a ${n.kind}`);

// Jails named in publish/receive must exist (enabled), once the jails are known (config/load.ts).
export const checkFleetJails = (fleet: FleetConfig | null, jails: readonly string[]): Diagnostic[] => {
  if (!fleet) return [];
  const out: Diagnostic[] = [];
  for (const [key, list] of [
    ['publish', fleet.publish],
    ['receive', fleet.receive],
  ] as const)
    if (!list.all)
      for (const n of list.names)
        if (!jails.includes(n.text))
          out.push(diag(n.pos.file, n.pos.line, `no enabled jail "${n.text}"`, `fleet.${key}`, n.pos.col));
  return out;
};

// Whether a jail is in a publish/receive list.
export const listHas = (list: JailList, jail: string): boolean => list.all || list.names.some((n) => n.text === jail);
