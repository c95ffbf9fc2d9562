// The part of raw-socket (CommonJS, untyped) that the raw sensor uses.
declare module 'raw-socket' {
  import type { EventEmitter } from 'node:events';
  export interface Socket extends EventEmitter {
    setOption(level: number, option: number, value: number): void;
    getOption(level: number, option: number, buffer: Buffer, length: number): number;
    close(): Socket;
    pauseRecv(): Socket;
    resumeRecv(): Socket;
    on(event: 'message', fn: (buf: Buffer, source: string) => void): this;
    on(event: 'error', fn: (e: Error) => void): this;
    on(event: 'close', fn: () => void): this;
  }
  const raw: {
    createSocket(o: { protocol?: number; addressFamily?: number; bufferSize?: number }): Socket;
    AddressFamily: { IPv4: number; IPv6: number };
    Protocol: { TCP: number; UDP: number };
    SocketLevel: { SOL_SOCKET: number };
    SocketOption: { SO_RCVBUF: number };
  };
  export default raw;
}
