// The part of syslog-client (CommonJS, untyped) that the remote syslog sink uses.
declare module 'syslog-client' {
  import type { EventEmitter } from 'node:events';
  export type LogOptions = { facility: number; severity: number; timestamp?: Date };
  export interface Client extends EventEmitter {
    log(message: string, options: LogOptions, cb: (error?: Error) => void): Client;
    close(): Client;
  }
  const syslog: {
    createClient(
      target: string,
      options: { port: number; transport: number; tcpTimeout: number; rfc3164: boolean; syslogHostname?: string },
    ): Client;
    Transport: { Tcp: number; Udp: number };
  };
  export default syslog;
}
