// What `sentryban install` and `sentryban uninstall` do, decided from hashes alone (dpkg's conffile rules): a file
// we wrote and nobody changed since is ours to replace or remove; a file someone edited, or that was there before
// us, is theirs and stays. No I/O here: the applier (apply.ts) reads the hashes and carries the steps out.

// One file the package puts on the system. `onlyIfAbsent`: written when the path is free, never replaced
// (portsentry.conf, /etc/default/portsentry: Debian's portsentry package may own them).
export type Wanted = { path: string; sha256: string; mode: number; onlyIfAbsent: boolean };

// What install wrote, kept at MANIFEST_PATH. Paths are the target system's (without --root).
export type Manifest = {
  version: 1;
  package: string;
  files: Record<string, { sha256: string }>; // the hash of what we last wrote there
  dirs: string[]; // folders install created (removed on uninstall when empty)
  stateDirs: string[]; // state folders install created (removed only with --purge)
};

// The hash of each path as it is now (null: absent).
export type Seen = ReadonlyMap<string, string | null>;

export type InstallStep<W extends Wanted = Wanted> =
  | { kind: 'write'; path: string; from: W; why: 'new' | 'updated' }
  | { kind: 'same'; path: string } // already holds our content
  | { kind: 'dist'; path: string; of: string; from: W } // theirs kept, ours written beside it
  | { kind: 'keep'; path: string; why: 'edited' | 'not ours' };

export type UninstallStep =
  { kind: 'remove'; path: string } | { kind: 'keep'; path: string; why: 'edited' } | { kind: 'gone'; path: string };

export const DIST_SUFFIX = '.dist';

// Each wanted file: written, left as it is, or kept with ours beside it as FILE.dist. Returns the steps and the
// manifest to record (the files we own after the steps ran).
export const planInstall = <W extends Wanted>(
  wanted: readonly W[],
  seen: Seen,
  old: Manifest | null,
): { steps: InstallStep<W>[]; obsolete: UninstallStep[]; files: Manifest['files'] } => {
  const steps: InstallStep<W>[] = [];
  const files: Manifest['files'] = {};
  for (const w of wanted) {
    const now = seen.get(w.path) ?? null;
    const recorded = old?.files[w.path]?.sha256 ?? null;
    const ours = { sha256: w.sha256 };
    if (now === null) {
      steps.push({ kind: 'write', path: w.path, from: w, why: 'new' });
      files[w.path] = ours;
    } else if (recorded !== null && now === recorded) {
      // Pristine: ours to replace.
      steps.push(
        now === w.sha256 ? { kind: 'same', path: w.path } : { kind: 'write', path: w.path, from: w, why: 'updated' },
      );
      files[w.path] = ours;
    } else if (recorded === null) {
      // There before us (by hand, or another package's): never ours, even with our content.
      steps.push({ kind: 'keep', path: w.path, why: 'not ours' });
      if (!w.onlyIfAbsent && now !== w.sha256) distBeside(w, seen, steps, files);
    } else {
      // Ours once, edited since: theirs now. Uninstall keeps it too (the recorded hash no longer matches).
      steps.push({ kind: 'keep', path: w.path, why: 'edited' });
      files[w.path] = { sha256: recorded };
      if (now !== w.sha256) distBeside(w, seen, steps, files);
    }
  }
  // Files an older version installed and this one no longer ships: removed when pristine, like uninstall.
  const left = Object.entries(old?.files ?? {}).filter(([p]) => !(p in files));
  const obsolete = planUninstall({ ...(old as Manifest), files: Object.fromEntries(left) }, seen);
  return { steps, obsolete, files };
};

// Our version beside the user's as FILE.dist (dpkg's .dpkg-dist), unless that file is already there.
const distBeside = <W extends Wanted>(w: W, seen: Seen, steps: InstallStep<W>[], files: Manifest['files']): void => {
  const path = w.path + DIST_SUFFIX;
  files[path] = { sha256: w.sha256 };
  if (seen.get(path) !== w.sha256) steps.push({ kind: 'dist', path, of: w.path, from: w });
};

// Every file of the manifest: removed when it still holds what we wrote, kept (and said) when edited.
export const planUninstall = (m: Manifest, seen: Seen): UninstallStep[] =>
  Object.entries(m.files).map(([path, { sha256 }]) => {
    const now = seen.get(path) ?? null;
    if (now === null) return { kind: 'gone', path };
    return now === sha256 ? { kind: 'remove', path } : { kind: 'keep', path, why: 'edited' };
  });

// Folders to try removing (deepest first, so a parent comes after its children).
export const foldersToRemove = (dirs: readonly string[]): string[] =>
  [...new Set(dirs)].sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
