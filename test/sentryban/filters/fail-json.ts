import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFilter } from '../../../src/sentryban/filters/load.js';
import { Matcher } from '../../../src/sentryban/filters/matcher.js';
import { outcomeOf } from '../../../src/sentryban/commands/regex.js';
import { parseAddr } from '../../../src/core/addr.js';

// Replays fail2ban's sample logs the way its own test suite does (samplestestcase.py): `# failJSON:` annotates
// the next line, `# filterOptions:` switches option sets, `# addFILE:` chains a file; time frozen at TEST_NOW in
// Europe/Zurich. Read at test time from the installed package, never copied.
export const LOGS = '/usr/lib/python3/dist-packages/fail2ban/tests/files/logs';
export const TEST_NOW_MS = 1124013600 * 1000;
const TZ = { kind: 'iana' as const, name: 'Europe/Zurich' };

export type Disagreement = {
  filter: string;
  file: string;
  line: number;
  opts: string;
  expected: unknown;
  got: unknown;
};
export type FailJsonReport = { lines: number; agree: number; disagreements: Disagreement[]; loadErrors: string[] };

type OptSet = { key: string; opts: Record<string, string>; matcher: Matcher | null; prefix: string; journal: boolean };

// Python's naive local datetime -> epoch seconds in Europe/Zurich.
const zurich = (iso: string): number => {
  const [d, t] = iso.split('T') as [string, string];
  const [y, mo, da] = d.split('-').map(Number) as [number, number, number];
  const [h, mi, s] = t.split(':').map(Number) as [number, number, number];
  const naive = Date.UTC(y, mo - 1, da, h, mi, Math.floor(s));
  for (const off of [120, 60]) {
    const cand = naive - off * 60000;
    const parts = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Zurich',
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).formatToParts(new Date(cand));
    const g = (k: string): number => Number(parts.find((p) => p.type === k)?.value);
    if (Date.UTC(g('year'), g('month') - 1, g('day'), g('hour'), g('minute'), g('second')) === naive)
      return cand / 1000;
  }
  return naive / 1000;
};

const makeSet = (name: string, raw: Record<string, unknown>, errors: string[]): OptSet | null => {
  if (typeof raw['test.condition'] === 'string' && !new RegExp(`^name\\s*==\\s*'${name}'$`).test(raw['test.condition']))
    return null;
  const opts: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (!k.startsWith('test.')) opts[k] = String(v);
  const key = JSON.stringify(opts);
  const f = loadFilter(`/etc/fail2ban/filter.d/${name}.conf`, { jailOpts: opts });
  if (!f.ok) {
    errors.push(`${name}${key}: ${f.errors.map((e) => e.message).join('; ')}`);
    return { key, opts, matcher: null, prefix: '', journal: false };
  }
  const matcher = new Matcher(f.value, { checkAll: true, noDate: 'drop', now: () => TEST_NOW_MS, timezone: TZ });
  return {
    key,
    opts,
    matcher,
    prefix: typeof raw['test.prefix-line'] === 'string' ? raw['test.prefix-line'] : '',
    journal: opts.logtype === 'journal',
  };
};

export const replayFailJson = (name: string): FailJsonReport => {
  const rep: FailJsonReport = { lines: 0, agree: 0, disagreements: [], loadErrors: [] };
  const files = [name];
  let common: Record<string, unknown> = {};
  let sets: OptSet[] | null = null;
  for (let fi = 0; fi < files.length; fi++) {
    const file = files[fi] as string;
    if (!existsSync(join(LOGS, file))) continue;
    const rows = readFileSync(join(LOGS, file), 'utf8').split('\n');
    let expect: Record<string, unknown> | null = null;
    let ignoreBlock = false;
    for (let n = 0; n < rows.length; n++) {
      const line = (rows[n] as string).replace(/\r$/, '');
      const j = /^#+ ?(failJSON|(?:file|filter)Options|addFILE):(.+)$/.exec(line);
      if (j) {
        const data = JSON.parse(j[2] as string) as unknown;
        if (j[1] === 'fileOptions') {
          common = data as Record<string, unknown>;
          continue;
        }
        if (j[1] === 'addFILE') {
          files.push(data as string);
          continue;
        }
        if (j[1] === 'filterOptions') {
          const list = (Array.isArray(data) ? data : [data]) as Record<string, unknown>[];
          sets = [];
          ignoreBlock = false;
          for (const o of list) {
            const s = makeSet(name, { ...common, ...o }, rep.loadErrors);
            if (s) sets.push(s);
            else ignoreBlock = true;
          }
          if (sets.length) ignoreBlock = false;
          continue;
        }
        expect = data as Record<string, unknown>;
        continue;
      }
      if (line.startsWith('#') || line.trim() === '') continue;
      if (ignoreBlock) {
        expect = null;
        continue;
      }
      sets ??= [makeSet(name, {}, rep.loadErrors)].filter((s): s is OptSet => s !== null);
      const e = expect ?? {};
      expect = null;
      for (const s of sets) {
        if (typeof e.constraint === 'string' && !constraintHolds(e.constraint, s.opts)) continue;
        if (!s.matcher) continue;
        const text = s.prefix + line;
        const r = s.journal
          ? s.matcher.match({ text, source: file }, TEST_NOW_MS)
          : s.matcher.match({ text, source: file });
        const hit = r.hits.find((h) => !h.nofail && h.id !== null);
        rep.lines++;
        const want = Boolean(e.match);
        let okay = Boolean(hit) === want;
        if (okay && want && hit) {
          // Ids are compared as addresses when both parse: we report IPv6 in RFC 5952 form (2001:db8::1).
          if (typeof e.host === 'string' && e.host !== hit.id && (parseAddr(e.host)?.text ?? e.host) !== hit.id)
            okay = false;
          if (typeof e.time === 'string' && r.time !== null && Math.abs(zurich(e.time) - r.time / 1000) > 0.001)
            okay = false;
          if (typeof e.time === 'string' && r.time === null) okay = false;
        }
        if (okay) rep.agree++;
        else
          rep.disagreements.push({
            filter: name,
            file,
            line: n + 1,
            opts: s.key,
            expected: e,
            got: hit ? { id: hit.id, time: r.time === null ? null : r.time / 1000 } : null,
          });
      }
    }
  }
  return rep;
};

// The constraints used in the sample logs: opts.get('x') == / != 'v', joined by and/or, or `name == '...'`.
const constraintHolds = (c: string, opts: Record<string, string>): boolean => {
  const js = c
    .replace(/opts\.get\('([^']+)'\)/g, (_m, k: string) => JSON.stringify(opts[k] ?? null))
    .replace(/\bname\b/g, '""')
    .replace(/\band\b/g, '&&')
    .replace(/\bor\b/g, '||')
    .replace(/\bnot\b/g, '!')
    .replace(/\bNone\b/g, 'null');
  if (!/^[\s"'\w\-=!&|().]*$/.test(js)) return true;
  // Only quotes, words, comparisons and logic pass the test above: nothing that could call or assign.
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return Boolean(Function(`return (${js});`)());
  } catch {
    return true;
  }
};

export const outcomeForLine = outcomeOf;
