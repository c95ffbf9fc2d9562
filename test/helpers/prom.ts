import { execa } from 'execa';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Metrics pages read as a monitoring system would: fetched over HTTP (Node's fetch), parsed by the reference
// Prometheus client's parser (prom-parse.py; Debian package python3-prometheus-client), never by our own code.
const PARSER = fileURLToPath(new URL('./prom-parse.py', import.meta.url));
// Debian's python3 (where apt puts the parser), not a pyenv one that may be first on PATH.
const PYTHON = '/usr/bin/python3';

export type Sample = { name: string; labels: Record<string, string>; value: number };
export type Family = { name: string; type: string; help: string; samples: Sample[] };
export type Page = { families: Family[]; contentType: string };

export const parseExposition = async (text: string): Promise<Family[]> => {
  const r = await execa(PYTHON, [PARSER], { input: text, reject: false, timeout: 30_000 });
  if (r.exitCode !== 0) throw new Error(`the Prometheus parser refused the page: ${r.stderr}\n${text.slice(0, 2000)}`);
  return JSON.parse(r.stdout) as Family[];
};

export const scrape = async (url: string): Promise<Page> => {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return { families: await parseExposition(await res.text()), contentType: res.headers.get('content-type') ?? '' };
};

// The value of one sample (a family's sample name, e.g. `x_total`, `x_count`) whose labels include `labels`;
// undefined when there is none.
export const valueOf = (
  families: readonly Family[],
  sample: string,
  labels: Record<string, string> = {},
): number | undefined => {
  for (const f of families)
    for (const s of f.samples)
      if (s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
  return undefined;
};

// The TCP ports a process listens on, in its own network namespace: its socket fds matched against the LISTEN
// rows (state 0A) of /proc/<pid>/net/tcp and tcp6.
export const listeningPorts = (pid: number): number[] => {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1] as string);
    } catch {
      /* closed meanwhile */
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6'])
    for (const row of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9] ?? '')) ports.add(parseInt((f[1] ?? '').split(':')[1] ?? '', 16));
    }
  return [...ports].sort((a, b) => a - b);
};
