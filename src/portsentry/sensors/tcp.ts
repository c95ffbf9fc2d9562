import * as L from '../lines.js';
import { nativeTrap } from './trap-addon.js';
import { isBindablePort, modePorts } from './ports.js';
import { nativeTrapPorts } from './tcp-native.js';
import { nodeTrapPorts } from './tcp-node.js';
import type { TrapConn, TrapKind, TrapPorts } from './tcp-trap.js';
import type { Sensor, SensorContext, SensorFactory } from './types.js';

// The native trap ports when the addon is built (accept() in C; ~0.1 ms less from connect to alert here), else
// Node's net.Server. Same lines, same answers to the peer.
export const defaultTrapKind: TrapKind = nativeTrap ? 'native' : 'node';

const trapPorts = (kind: TrapKind): TrapPorts => {
  if (kind === 'node') return nodeTrapPorts();
  if (!nativeTrap) throw new Error('native trap ports not built (npm ci builds them)');
  return nativeTrapPorts(nativeTrap);
};

const onProbe =
  (ctx: SensorContext, port: number) =>
  (conn: TrapConn): void => {
    if (!conn.src) {
      ctx.log(L.acceptFailed(port));
      conn.finish(null);
      return;
    }
    // The banner and the close come after the alert line and the command's start, which the pipeline runs
    // synchronously up to here (1.2 writes and closes just before its alert line; the peer sees the same).
    let answered = false;
    const answer = (banner: string | null): void => {
      if (answered) return;
      answered = true;
      setImmediate(() => conn.finish(banner));
    };
    ctx.submit(
      { proto: 'tcp', mode: 'tcp', src: conn.src, dstPort: port, at: ctx.clock.now() },
      { onAlarm: (banner) => answer(banner), onDone: () => answer(null), alerted: conn.alerted === true },
    );
  };

// -tcp: bind each TCP_PORTS port and treat every completed connection as a probe.
export const makeTcpSensor =
  (kind: TrapKind = defaultTrapKind): SensorFactory =>
  (conf, ctx): Sensor => {
    const traps = trapPorts(kind);
    return {
      async start() {
        const ports = modePorts(conf, 'tcp', ctx.log);
        if (!ports) return false;
        let bound = 0;
        for (const port of ports) {
          ctx.log(L.listening('TCP', port));
          if (isBindablePort(port) && (await traps.bind(port, onProbe(ctx, port)))) {
            bound++;
            continue;
          }
          ctx.log(L.cannotBind('TCP', port));
        }
        if (bound === 0) {
          ctx.log(L.cannotBindAny('TCP'));
          return false;
        }
        return true;
      },
      stop: () => traps.close(),
    };
  };

export const tcpSensor: SensorFactory = makeTcpSensor();
