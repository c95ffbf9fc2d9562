import { parseFilterRef } from '../filters/load.js';
import { expandGlob } from './file/glob.js';

// fail2ban 1.0's `backend = systemd[journalpath=DIR, journalfiles="A B", journalflags=N, namespace=NS]`, turned
// into journalctl options. Flags are sd_journal_open()'s: LOCAL_ONLY 1, RUNTIME_ONLY 2, SYSTEM 4, CURRENT_USER 8.
export type JournalOptions = { directory?: string; files?: string[]; flags?: number; namespace?: string };
export type BackendChoice = { kind: 'files' } | { kind: 'systemd'; options: JournalOptions };

const FLAG_LOCAL_ONLY = 1;
const FLAG_SYSTEM = 4;
const FLAG_CURRENT_USER = 8;
const KNOWN_FLAGS = FLAG_LOCAL_ONLY | FLAG_SYSTEM | FLAG_CURRENT_USER;
const FILE_BACKENDS = ['auto', 'polling', 'pyinotify', 'gamin'];

export const parseBackend = (text: string): { ok: true; value: BackendChoice } | { ok: false; message: string } => {
  const { name, opts } = parseFilterRef(text.trim());
  if (FILE_BACKENDS.includes(name))
    return Object.keys(opts).length
      ? { ok: false, message: `backend "${name}" takes no options` }
      : { ok: true, value: { kind: 'files' } };
  if (name !== 'systemd')
    return {
      ok: false,
      message: `unknown backend "${name}" (known: ${[...FILE_BACKENDS, 'systemd[...]'].join(', ')})`,
    };
  const o: JournalOptions = {};
  for (const [k, v] of Object.entries(opts)) {
    if (k === 'journalpath') o.directory = v;
    // fail2ban splits on spaces/commas and expands globs (files that do not exist are dropped, as glob.glob).
    else if (k === 'journalfiles')
      o.files = [
        ...new Set(
          v
            .split(/[\s,]+/)
            .filter(Boolean)
            .flatMap((p) => (/[*?[]/.test(p) ? expandGlob(p) : [p])),
        ),
      ];
    else if (k === 'journalflags') {
      if (!/^\d+$/.test(v)) return { ok: false, message: `journalflags: expected a number, got "${v}"` };
      const n = Number(v);
      if ((n & ~KNOWN_FLAGS) !== 0)
        return {
          ok: false,
          message: `journalflags ${n}: only LOCAL_ONLY (1), SYSTEM (4) and CURRENT_USER (8) map to journalctl options`,
        };
      o.flags = n;
    } else if (k === 'namespace') o.namespace = v;
    else
      return {
        ok: false,
        message: `unknown systemd backend option "${k}" (known: journalpath, journalfiles, journalflags, namespace)`,
      };
  }
  if (o.directory !== undefined && o.files !== undefined)
    return {
      ok: false,
      message: 'journalpath and journalfiles exclude each other (journalctl takes --directory or --file)',
    };
  return { ok: true, value: { kind: 'systemd', options: o } };
};

// journalctl's options for where to read. Without a path or files and without flags, fail2ban opens SYSTEM (4).
export const journalWhereArgs = (o: JournalOptions): string[] => {
  const out: string[] = [];
  if (o.directory !== undefined) out.push(`--directory=${o.directory}`);
  for (const f of o.files ?? []) out.push(`--file=${f}`);
  if (o.namespace !== undefined) out.push(`--namespace=${o.namespace}`);
  const flags = o.flags ?? (o.directory === undefined && o.files === undefined ? FLAG_SYSTEM : undefined);
  if (flags !== undefined) {
    if (flags & FLAG_SYSTEM) out.push('--system');
    if (flags & FLAG_CURRENT_USER) out.push('--user');
    // journalctl reads local entries only unless --merge: LOCAL_ONLY is its default.
    if (!(flags & FLAG_LOCAL_ONLY)) out.push('--merge');
  }
  return out;
};
