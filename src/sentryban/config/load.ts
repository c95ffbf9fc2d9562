import { lookup } from 'node:dns/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Cidr, parseAddr } from '../../core/addr.js';
import { diag, fail, ok, type Diagnostic, type Result } from '../../core/diagnostics.js';
import { specFromOptions, type ActionSpec } from '../actions/index.js';
import { compileFilter, type Filter } from '../filters/filter.js';
import { loadFilter } from '../filters/load.js';
import { loadFail2banJails } from './fail2ban-jails.js';
import { Fields } from './fields.js';
import { JAIL_KEYS, readJail, type JailSpec } from './jail-file.js';
import type { DaemonConfig, LoadedJail } from './loaded.js';
import { readMain, type MainConfig } from './main-file.js';
import { checkFleetJails } from './fleet-settings.js';
import { parseYamlTree } from './yaml-tree.js';

// The whole configuration, validated: nothing starts unless every file is right. Filters come from the filters
// stage: by name (<config>/filters/*.yaml, the bundled ones, then fail2ban's filter.d) or inline `failregex`.
// The result is plain data (loaded.ts); the daemon builds its matchers from it.
// lookup: how ignoreip names are resolved (default: the system resolver); the config fuzzer passes one that
// resolves nothing, so that no generated name leaves the machine.
export type Lookup = (name: string) => Promise<Array<{ address: string }>>;
export type LoadOptions = { fail2banDir?: string; fail2banConfig?: string; lookup?: Lookup };

export const loadConfig = async (dirIn: string, opts: LoadOptions = {}): Promise<Result<DaemonConfig>> => {
  const dir = resolve(dirIn);
  const mainFile = join(dir, 'sentryban.yaml');
  if (!existsSync(mainFile)) return fail([diag(mainFile, 0, 'not found (the config folder needs sentryban.yaml)')]);
  const f = new Fields();
  const errors: Diagnostic[] = [];
  const mainTree = parseYamlTree(readFileSync(mainFile, 'utf8'), mainFile);
  if (!mainTree.ok) return mainTree;
  const main = readMain(f, mainTree.value, dir, JAIL_KEYS);
  const specs: JailSpec[] = [];
  const jailDir = join(dir, 'jails');
  const files = existsSync(jailDir)
    ? readdirSync(jailDir)
        .filter((n) => /\.ya?ml$/.test(n))
        .sort()
    : [];
  for (const name of files) {
    const file = join(jailDir, name);
    const tree = parseYamlTree(readFileSync(file, 'utf8'), file);
    if (!tree.ok) {
      errors.push(...tree.errors);
      continue;
    }
    if (!tree.value) continue;
    if (tree.value.kind !== 'map') {
      f.error(tree.value.pos, '', 'expected a mapping of jail name -> settings');
      continue;
    }
    for (const e of tree.value.entries) {
      if (specs.some((s) => s.config.name === e.key)) {
        f.error(e.keyPos, e.key, `jail "${e.key}" is defined twice`);
        continue;
      }
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(e.key)) {
        f.error(e.keyPos, e.key, 'a jail name is letters, digits, _ . - (at most 64)');
        continue;
      }
      specs.push(readJail(f, e.key, e.value, e.key, main.defaults));
    }
  }
  const jails: LoadedJail[] = [];
  for (const spec of specs.filter((s) => s.enabled)) {
    const jail = buildJail(spec, main, dir, opts, errors);
    if (jail) jails.push(jail);
  }
  if (opts.fail2banConfig) {
    const imported = loadFail2banJails(resolve(opts.fail2banConfig));
    if (!imported.ok) errors.push(...imported.errors);
    else
      for (const j of imported.value) {
        const name = j.spec.config.name;
        if (jails.some((x) => x.spec.config.name === name))
          errors.push(diag(j.spec.pos.file, j.spec.pos.line, `jail "${name}" is also defined in ${jailDir}`, name));
        else jails.push(j);
      }
  }
  errors.push(
    ...checkFleetJails(
      main.fleet,
      jails.map((j) => j.spec.config.name),
    ),
  );
  errors.push(...f.errors, ...(await resolveNames(jails, opts.lookup ?? ((n) => lookup(n, { all: true })))));
  if (errors.length > 0)
    return fail(errors.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col));
  return ok({ dir, main, jails });
};

const buildJail = (
  spec: JailSpec,
  main: MainConfig,
  dir: string,
  opts: LoadOptions,
  errors: Diagnostic[],
): LoadedJail | null => {
  const name = spec.config.name;
  const at = (p: { file: string; line: number; col: number }, path: string, msg: string): void => {
    errors.push(diag(p.file, p.line, msg, path, p.col));
  };
  const fr = spec.filter;
  const r = compileJailFilter(spec, dir, opts);
  let filter: Filter | null = null;
  if (r.ok) filter = r.value;
  else
    for (const e of r.errors)
      errors.push(
        e.line === 0 && fr.name !== null
          ? {
              ...e,
              file: fr.pos.file,
              line: fr.pos.line,
              col: fr.pos.col,
              path: `${name}.filter`,
              message: `${e.file}: ${e.message}`,
            }
          : e,
      );
  if (spec.logpaths.length === 0 && spec.backend.kind === 'files')
    at(spec.pos, `${name}.logpath`, 'a jail needs at least one logpath (or backend: systemd)');
  if (spec.logpaths.length > 0 && spec.backend.kind === 'systemd')
    at(spec.pos, `${name}.logpath`, 'a journal jail (backend systemd) reads no logpath: remove one of them');
  const actions: ActionSpec[] = [];
  for (const a of spec.actions) {
    const named = main.actions.get(a.name);
    const r = specFromOptions(named?.backend ?? a.name, name, named?.options ?? {}, {
      file: a.pos.file,
      line: a.pos.line,
      path: `${name}.actions`,
    });
    if (r.ok) actions.push(r.value);
    else errors.push(...r.errors);
  }
  return filter ? { spec, filter, actions } : null;
};

// The jail's filter: by name (our YAML in <config>/filters, the bundled ones, fail2ban's filter.d), or inline.
export const compileJailFilter = (spec: JailSpec, dir: string, opts: LoadOptions = {}): Result<Filter> => {
  const fr = spec.filter;
  const ourDir = join(dir, 'filters');
  // The jail's usedns wins, then the filter's own; unset in both means "no": no lookups unless asked for.
  const dns = { ...(spec.usedns ? { usedns: spec.usedns } : {}), defaultUsedns: 'no' };
  if (fr.name !== null)
    return loadFilter(fr.name, {
      ...(existsSync(ourDir) ? { ourDir } : {}),
      ...(opts.fail2banDir ? { fail2banDir: opts.fail2banDir } : {}),
      ...dns,
    });
  return compileFilter(
    {
      name: spec.config.name,
      files: [fr.pos.file],
      prefregex: null,
      failregex: fr.failregex,
      ignoreregex: fr.ignoreregex,
      datepattern: fr.datepattern,
      maxlines: fr.maxlines,
      journalmatch: [],
      usedns: null,
    },
    dns,
  );
};

// ignoreip host names are resolved once, at load; a name that does not resolve refuses the config.
const resolveNames = async (jails: LoadedJail[], resolveName: Lookup): Promise<Diagnostic[]> => {
  const errors: Diagnostic[] = [];
  for (const j of jails) {
    for (const n of j.spec.ignoreNames) {
      try {
        const addrs = await resolveName(n.name);
        for (const a of addrs) {
          const p = parseAddr(a.address);
          if (p) j.spec.config.ignore.cidrs.push(Cidr.of(p, p.family === 4 ? 32 : 128));
        }
      } catch (e) {
        errors.push(
          diag(
            n.pos.file,
            n.pos.line,
            `ignoreip name "${n.name}" does not resolve (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
            `${j.spec.config.name}.ignoreip`,
            n.pos.col,
          ),
        );
      }
    }
  }
  return errors;
};
