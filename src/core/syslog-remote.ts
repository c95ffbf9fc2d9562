import { createRequire } from 'node:module';
import type SyslogClient from 'syslog-client';
import type { Client } from 'syslog-client';
import { parseAddr, type Addr } from './addr.js';
import { formatSyslogBody, type SyslogSink } from './syslog.js';

// Remote syslog for both daemons (portsentry's SYSLOG_REMOTE, sentryban's logtarget): "udp://ADDR[:PORT]" or
// "tcp://ADDR[:PORT]", port 514 by default, an IPv6 address in brackets. An address, never a host name: a name
// would be looked up again for every datagram (syslog-client hands it to dgram.send), so a slow resolver would
// hold every line; and a name that resolves elsewhere later is not what the admin checked at start.
export type SyslogAddress = { transport: 'udp' | 'tcp'; addr: Addr; port: number; text: string };

export const DEFAULT_SYSLOG_PORT = 514;
const FORM = /^(udp|tcp):\/\/(\[[^\]]*\]|[^:/[\]]*)(?::(\d{1,5}))?\/?$/i;

export const isSyslogAddressText = (text: string): boolean => /^(udp|tcp):\/\//i.test(text.trim());

export const parseSyslogAddress = (
  text: string,
): { ok: true; value: SyslogAddress } | { ok: false; message: string } => {
  const t = text.trim();
  const m = FORM.exec(t);
  if (!m) return { ok: false, message: `expected udp://ADDRESS[:PORT] or tcp://ADDRESS[:PORT], got "${t}"` };
  const transport = (m[1] as string).toLowerCase() as 'udp' | 'tcp';
  const host = m[2] as string;
  const addr = parseAddr(host);
  if (!addr) {
    const why = /^[A-Za-z0-9.-]*[A-Za-z-][A-Za-z0-9.-]*$/.test(host)
      ? `"${host}" is a host name: give its address (names are not looked up)`
      : `"${host}" is not an IP address`;
    return { ok: false, message: `${why}, in "${t}"` };
  }
  const range = addr.ip.range();
  if (range === 'unspecified' || range === 'broadcast')
    return { ok: false, message: `${addr.text} is not an address a syslog server can have, in "${t}"` };
  const port = m[3] === undefined ? DEFAULT_SYSLOG_PORT : Number(m[3]);
  if (port < 1 || port > 65535) return { ok: false, message: `port ${port} is outside 1-65535, in "${t}"` };
  const where = addr.family === 6 ? `[${addr.text}]` : addr.text;
  return { ok: true, value: { transport, addr, port, text: `${transport}://${where}:${port}` } };
};

export type RemoteSyslogOptions = {
  address: SyslogAddress;
  tag: string;
  facility: number;
  severity: number;
  pid?: () => number;
  // Said once when lines stop reaching the server and once when they reach it again (the daemon logs it locally).
  onTrouble: (text: string) => void;
  // Lines handed to the socket and not yet sent (a TCP peer that does not read); past it lines are dropped, counted.
  maxInFlight?: number;
};

export type RemoteSyslog = Omit<SyslogSink, 'close' | 'log'> & {
  log(message: string, severity?: number, at?: Date): void;
  // Lines in flight get up to a second to leave.
  close(): Promise<void>;
};

const MAX_IN_FLIGHT = 10000;
const CLOSE_WAIT_MS = 1000;

// syslog-client (CommonJS) is loaded only when a remote server is configured: importing it costs a daemon
// about 4 MiB of RSS that most installs would carry for nothing.
let syslogClient: typeof SyslogClient | null = null;
const loadSyslogClient = (): typeof SyslogClient =>
  (syslogClient ??= createRequire(import.meta.url)('syslog-client') as typeof SyslogClient);

// A remote syslog sink (RFC 3164 through syslog-client: "<PRI>Mmm dd hh:mm:ss HOST tag[pid]: message\n", the
// body formatted by formatSyslogBody as the local lines are). Never blocks and never throws: a failed send or a
// TCP peer that went away is said once through onTrouble, lines to it are lost (counted) until a send works again;
// TCP reconnects on the next line.
export const openRemoteSyslog = (opts: RemoteSyslogOptions): RemoteSyslog => {
  const a = opts.address;
  const pid = opts.pid ?? (() => process.pid);
  const maxInFlight = opts.maxInFlight ?? MAX_IN_FLIGHT;
  const syslog = loadSyslogClient();
  const client: Client = syslog.createClient(a.addr.text, {
    port: a.port,
    transport: a.transport === 'tcp' ? syslog.Transport.Tcp : syslog.Transport.Udp,
    // syslog-client reports an idle TCP connection as an error after tcpTimeout (and keeps it): make that never.
    tcpTimeout: 2 ** 31 - 1,
    rfc3164: true,
  });
  let inFlight = 0;
  let failing = false;
  let lost = 0;
  const fail = (e: Error): void => {
    if (failing) return;
    failing = true;
    opts.onTrouble(`remote syslog ${a.text}: ${e.message}; lines to it are lost until it answers again`);
  };
  // Without a listener an 'error' event would throw; a TCP peer closing is reported here before any send fails.
  client.on('error', (e: Error) => {
    fail(e);
  });
  const idleWaiters: (() => void)[] = [];
  const sent = (e?: Error): void => {
    inFlight--;
    if (e) {
      lost++;
      fail(e);
    } else if (failing) {
      failing = false;
      opts.onTrouble(`remote syslog ${a.text}: sending again (${lost} lines lost)`);
      lost = 0;
    }
    if (inFlight === 0) idleWaiters.splice(0).forEach((w) => w());
  };
  let closed = false;
  return {
    idle: () => inFlight === 0,
    log(message: string, severity = opts.severity, at?: Date) {
      if (closed) return;
      if (inFlight >= maxInFlight) {
        lost++;
        fail(new Error(`${maxInFlight} lines waiting: the server is not reading`));
        return;
      }
      inFlight++;
      try {
        client.log(
          formatSyslogBody(opts.tag, pid(), message),
          { facility: opts.facility, severity, ...(at ? { timestamp: at } : {}) },
          sent,
        );
      } catch (e) {
        sent(e as Error);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (inFlight > 0)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, CLOSE_WAIT_MS);
          idleWaiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      try {
        client.close();
      } catch {
        /* already closed */
      }
    },
  };
};
