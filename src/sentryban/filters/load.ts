import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diag, fail, type Result } from '../../core/diagnostics.js';
import { loadFail2banFilter } from './fail2ban/filter-reader.js';
import { compileFilter, type CompileOptions, type Filter } from './filter.js';
import { loadYamlFilter } from './yaml-filter.js';

export type LoadFilterOptions = CompileOptions & {
  jailOpts?: Record<string, string>; // fail2ban filter arguments, e.g. {mode: 'aggressive'}
  fail2banDir?: string; // where stock fail2ban filters live (default /etc/fail2ban)
  ourDir?: string; // where our YAML filters live (default <package>/filters)
};

const PKG_FILTERS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'filters');

// "sshd[mode=aggressive, x=\"a, b\"]" -> name and options (fail2ban's jail argument syntax).
export const parseFilterRef = (ref: string): { name: string; opts: Record<string, string> } => {
  const b = ref.indexOf('[');
  if (b < 0 || !ref.endsWith(']')) return { name: ref.trim(), opts: {} };
  const opts: Record<string, string> = {};
  const body = ref.slice(b + 1, -1).replace(/\]\s*\[/g, ',');
  const re = /\s*([\w\-?=/.]+?)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^,]*)\s*(?:,|$)/gy;
  for (let m = re.exec(body); m && m[0] !== ''; m = re.exec(body)) {
    let v = (m[2] ?? '').trim();
    if (/^(["']).*\1$/s.test(v)) v = v.slice(1, -1);
    opts[m[1] ?? ''] = v;
  }
  return { name: ref.slice(0, b).trim(), opts };
};

// A filter by path (our .yaml, or a fail2ban .conf/.local) or by stock name (ours first, then fail2ban's).
export const loadFilter = (ref: string, o: LoadFilterOptions = {}): Result<Filter> => {
  const { name, opts } = parseFilterRef(ref);
  const jailOpts = { ...opts, ...(o.jailOpts ?? {}) };
  if (/\.ya?ml$/.test(name)) return loadYamlFilter(name, o);
  if (/\.(conf|local)$/.test(name) || name.includes('/')) {
    const spec = loadFail2banFilter(name, jailOpts);
    return spec.ok ? compileFilter(spec.value, o) : spec;
  }
  const ours = join(o.ourDir ?? PKG_FILTERS, `${name}.yaml`);
  if (Object.keys(jailOpts).length === 0 && existsSync(ours)) return loadYamlFilter(ours, o);
  const stock = join(o.fail2banDir ?? '/etc/fail2ban', 'filter.d', name);
  if (existsSync(`${stock}.conf`) || existsSync(`${stock}.local`)) {
    const spec = loadFail2banFilter(stock, jailOpts);
    return spec.ok ? compileFilter(spec.value, o) : spec;
  }
  return fail([diag(name, 0, `no filter named "${name}" (looked for ${ours} and ${stock}.conf)`)]);
};
