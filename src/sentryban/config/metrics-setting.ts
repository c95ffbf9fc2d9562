import { parseMetricsAddress, type MetricsAddress } from '../../core/metrics-address.js';
import type { Fields } from './fields.js';
import type { YNode } from './yaml-tree.js';

// `metrics: 127.0.0.1:9102`: the Prometheus endpoint (docs/metrics.md). Absent, empty or `off`: no endpoint.
export const readMetricsKey = (f: Fields, node: YNode | undefined): MetricsAddress | null => {
  if (!node) return null;
  const t = f.scalar(node, 'metrics');
  if (t === null || ['', 'off', 'no', 'false', 'none'].includes(t.trim().toLowerCase())) return null;
  const a = parseMetricsAddress(t);
  if (a.ok) return a.value;
  f.error(node.pos, 'metrics', a.message);
  return null;
};
