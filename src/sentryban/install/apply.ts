import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MANIFEST_PATH, PLACES, STATE_DIRS, sha256, unitsToEnable, type Bundled } from './bundle.js';
import { DIST_SUFFIX, foldersToRemove, planInstall, planUninstall } from './plan.js';
import type { InstallStep, Manifest, Seen } from './plan.js';

// The applier: reads what is on disk, lets plan.ts decide, carries the steps out under `root` (a temp folder in
// tests, / on a system) and says each thing it did, one line each, with the target system's paths.
export type Say = (line: string) => void;

const at = (root: string, path: string): string => join(root, path);

// The hash of a regular file, null when absent (a folder or a link in its place counts as present and foreign).
const hashOf = (full: string): string | null => {
  try {
    const st = lstatSync(full);
    return st.isFile() ? sha256(readFileSync(full)) : `not a file (${st.isDirectory() ? 'folder' : 'link'})`;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
};

const seenOf = (root: string, paths: Iterable<string>): Seen =>
  new Map([...paths].map((p) => [p, hashOf(at(root, p))]));

export const readManifest = (root: string): Manifest | null => {
  const full = at(root, MANIFEST_PATH);
  if (!existsSync(full)) return null;
  const m = JSON.parse(readFileSync(full, 'utf8')) as Manifest;
  if (m.version !== 1 || typeof m.files !== 'object') throw new Error(`${full}: not a manifest this version reads`);
  return m;
};

// Written next to the target and renamed over it: a crash leaves the old file or the new one, never half of one.
const writeAtomic = (full: string, content: Buffer | string, mode: number): void => {
  const tmp = `${full}.sentryban-tmp`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, full);
};

// mkdir -p, returning the folders it made (target paths), outermost first.
const makeParents = (root: string, dir: string): string[] => {
  const made: string[] = [];
  for (let d = dir; d !== '/' && !existsSync(at(root, d)); d = dirname(d)) made.unshift(d);
  for (const d of made) mkdirSync(at(root, d), { mode: 0o755 });
  return made;
};

export const applyInstall = (root: string, bundle: readonly Bundled[], pkg: string, say: Say): void => {
  const old = readManifest(root);
  const paths = new Set([...bundle.flatMap((b) => [b.path, b.path + DIST_SUFFIX]), ...Object.keys(old?.files ?? {})]);
  const { steps, obsolete, files } = planInstall(bundle, seenOf(root, paths), old);
  const dirs = new Set(old?.dirs ?? []);
  const stateDirs = new Set(old?.stateDirs ?? []);
  for (const d of STATE_DIRS) {
    if (existsSync(at(root, d))) continue;
    for (const p of makeParents(root, dirname(d))) dirs.add(p);
    mkdirSync(at(root, d), { mode: 0o700 });
    chmodSync(at(root, d), 0o700);
    stateDirs.add(d);
    say(`created   ${d}/ (mode 0700)`);
  }
  for (const s of steps) {
    if (s.kind === 'write' || s.kind === 'dist') {
      for (const p of makeParents(root, dirname(s.path))) dirs.add(p);
      writeAtomic(at(root, s.path), s.from.content, s.from.mode);
    }
    if (s.kind === 'write') say(`${s.why === 'new' ? 'installed' : 'updated  '} ${s.path}`);
    else if (s.kind === 'same') say(`unchanged ${s.path}`);
    else if (s.kind === 'dist') say(`kept      ${s.of} (${whyKept(steps, s.of)}); ours is beside it: ${s.path}`);
    else if (!steps.some((t) => t.kind === 'dist' && t.of === s.path)) say(`kept      ${s.path} (${KEPT[s.why]})`);
  }
  for (const s of obsolete) {
    if (s.kind === 'remove') rmSync(at(root, s.path));
    if (s.kind !== 'gone') say(`${s.kind === 'remove' ? 'removed  ' : 'kept     '} ${s.path} (no longer shipped)`);
  }
  const manifest: Manifest = { version: 1, package: pkg, files, dirs: [...dirs], stateDirs: [...stateDirs] };
  writeAtomic(at(root, MANIFEST_PATH), `${JSON.stringify(manifest, null, 2)}\n`, 0o600);
  say(`recorded  ${MANIFEST_PATH} (what uninstall removes)`);
  if (root === '/') {
    const units = unitsToEnable(bundle);
    if (units.length) say(`next: systemctl daemon-reload && systemctl enable --now ${units.join(' ')}`);
  }
};

const KEPT = { edited: 'edited since install', 'not ours': 'there before this install; left as it is' } as const;

const whyKept = (steps: readonly InstallStep[], path: string): string => {
  const k = steps.find((s) => s.kind === 'keep' && s.path === path);
  return k?.kind === 'keep' && k.why === 'edited' ? KEPT.edited : 'there before this install';
};

export const applyUninstall = (root: string, purge: boolean, say: Say): boolean => {
  const m = readManifest(root);
  if (!m) {
    say(`nothing to remove: no ${MANIFEST_PATH}${root === '/' ? '' : ` under ${root}`}`);
    return false;
  }
  if (root === '/') {
    const units = Object.keys(m.files).filter((p) => p.startsWith(`${PLACES.units}/`) && !p.includes('@.'));
    if (units.length)
      say(`(stop them first: systemctl disable --now ${units.map((u) => u.slice(PLACES.units.length + 1)).join(' ')})`);
  }
  for (const s of planUninstall(m, seenOf(root, Object.keys(m.files)))) {
    if (s.kind === 'remove') {
      rmSync(at(root, s.path));
      say(`removed   ${s.path}`);
    } else if (s.kind === 'keep') say(`kept      ${s.path} (edited since install; yours to remove)`);
  }
  rmSync(at(root, MANIFEST_PATH), { force: true });
  for (const d of m.stateDirs) {
    if (!existsSync(at(root, d))) continue;
    if (purge) {
      rmSync(at(root, d), { recursive: true, force: true });
      say(`purged    ${d}/`);
    } else say(`kept      ${d}/ (state: bans, history; --purge removes it)`);
  }
  for (const d of foldersToRemove(m.dirs)) {
    try {
      rmdirSync(at(root, d));
      say(`removed   ${d}/`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A folder still holding something (a file kept above, the state) stays, unsaid.
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw e;
    }
  }
  if (root === '/') say('then: systemctl daemon-reload');
  return true;
};
