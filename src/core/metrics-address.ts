import { parseAddr } from './addr.js';

// Where a daemon's metrics endpoint listens (sentryban.yaml `metrics:`, portsentry.conf METRICS). Kept apart from
// metrics.ts so that reading a config never loads prom-client: the endpoint's code is loaded only when it is on.
export type MetricsAddress = { host: string; port: number; text: string };
// `127.0.0.1:9102`, `[::1]:9102`: an IP literal (loopback, or a host address named on purpose) and a port.
// Host names and wildcards are refused: a metrics page on every interface is never a default.
export const parseMetricsAddress = (
  text: string,
): { ok: true; value: MetricsAddress } | { ok: false; message: string } => {
  const t = text.trim();
  const m = /^(\[[^\]]*\]|[^:[\]]+):(\d{1,5})$/.exec(t);
  if (!m) return { ok: false, message: `expected ADDRESS:PORT (e.g. 127.0.0.1:9102 or [::1]:9102), got "${t}"` };
  const hostText = m[1] as string;
  const port = Number(m[2]);
  const addr = parseAddr(hostText);
  if (!addr || (addr.family === 6 && !hostText.startsWith('[')))
    return { ok: false, message: `"${hostText}" is not an IP address (write 127.0.0.1:PORT; IPv6 as [::1]:PORT)` };
  const range = addr.ip.range();
  if (range === 'unspecified')
    return { ok: false, message: `${addr.text} listens on every interface; name one address (e.g. 127.0.0.1)` };
  if (port < 1 || port > 65535) return { ok: false, message: `port ${port} is outside 1-65535` };
  const host = addr.text;
  return { ok: true, value: { host, port, text: addr.family === 6 ? `[${host}]:${port}` : `${host}:${port}` } };
};
