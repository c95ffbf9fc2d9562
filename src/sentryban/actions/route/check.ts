import { parseCidr } from '../../../core/addr.js';
import type { RouteType } from '../spec.js';
import { planDelLine, planReplaceLine } from './plan.js';

// Our routes as `ip -j route show proto N` lists them: target (canonical cidr text) -> route type.
export const parseRoutes = (json: string): Map<string, string> => {
  const out = new Map<string, string>();
  const rows = (json.trim() ? JSON.parse(json) : []) as { type?: string; dst?: string }[];
  for (const r of rows) {
    const c = parseCidr(r.dst ?? '');
    if (c) out.set(c.text, r.type ?? 'unicast');
  }
  return out;
};

// Batch lines making the kernel hold exactly `wanted` (replace is idempotent; strays deleted with their own type).
export const planRouteRepair = (
  have: ReadonlyMap<string, string>,
  wanted: readonly string[],
  type: RouteType,
  proto: number,
): string[] => {
  const want = new Set(wanted);
  const lines = wanted.filter((w) => have.get(w) !== type).map((w) => planReplaceLine(type, w, proto));
  for (const [dst, t] of have) if (!want.has(dst)) lines.push(planDelLine(t, dst, proto));
  return lines;
};
