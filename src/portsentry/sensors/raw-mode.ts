import { channel } from 'node:diagnostics_channel';
import { parseAddr } from '../../core/addr.js';
import type { PortsentryConf } from '../conf.js';
import type { ProbeEvent } from '../event.js';
import * as L from '../lines.js';
import { findPortsInUse, isPortInUse } from './bind-test.js';
import { Admission } from './admission.js';
import { LocalAddrs } from './local-addrs.js';
import { isBindablePort, modePorts } from './ports.js';
import { openRawSensor, protoOf, type RawMode, type RawSensor } from './raw.js';
import { RefusalNotice } from './refusal-notice.js';
import { SmartVerifier } from './smart-verify.js';
import type { Sensor, SensorContext, SensorFactory } from './types.js';
import { planAdvancedWatch, planStealthWatch, type WatchPlan } from './watch-ports.js';

// Bounds on probes waiting between the socket and the end of the pipeline (see admission.ts): memory stays
// bounded whatever the packet rate, and new scanners keep their first probes under a flood.
const MAX_BACKLOG = 4096;
const PRESSURE = 64;
const PER_SOURCE = 4;

// What a raw sensor holds in memory, for benches and operators: published once per start on the diagnostics
// channel below (a no-op without subscribers; nothing is published per packet). A subscriber reads it when it likes.
export type RawSensorState = {
  received: number;
  probes: number;
  waiting: number;
  waitingSources: number;
  refused: number;
  verifyPending: number;
  verifyCached: number;
  verifyDropped: number;
  verifyInUse: number;
};
export const RAW_STATE_CHANNEL = 'sentrytools:portsentry:raw-sensor';
const stateChannel = channel(RAW_STATE_CHANNEL);

const planFor = async (mode: RawMode, conf: PortsentryConf, ctx: SensorContext): Promise<WatchPlan | null> => {
  const proto = protoOf(mode);
  if (mode === 'stcp' || mode === 'sudp') {
    const ports = modePorts(conf, proto, ctx.log);
    if (!ports) return null;
    // A port bind() cannot take (0 gives an ephemeral one, >65535 wraps) is never "in use" for 1.2 either.
    const inUse = await findPortsInUse(proto, ports.filter(isBindablePort));
    return planStealthWatch(proto, ports, inUse);
  }
  const limit = proto === 'tcp' ? conf.advancedPortsTcp : conf.advancedPortsUdp;
  const exclude = proto === 'tcp' ? conf.advancedExcludeTcp : conf.advancedExcludeUdp;
  const n = Math.max(0, Math.min(limit ?? 1024, 65536));
  const inUse = await findPortsInUse(proto, Array.from({ length: n }, (_, i) => i).filter(isBindablePort));
  return planAdvancedWatch(proto, { advancedPorts: limit, exclude: exclude?.ports ?? null }, inUse);
};

// -stcp, -sudp, -atcp, -audp: the raw sensor, with 1.2's start-up port plan and smart-verify in front of the
// shared pipeline.
export const rawSensorFor =
  (mode: RawMode): SensorFactory =>
  (conf, ctx): Sensor => {
    const proto = protoOf(mode);
    const P = proto === 'tcp' ? 'TCP' : 'UDP';
    let sensor: RawSensor | null = null;
    const admission = new Admission({ max: MAX_BACKLOG, pressure: PRESSURE, perSource: PER_SOURCE });
    const notice = new RefusalNotice(ctx.clock, ctx.log, MAX_BACKLOG);
    const release = (ev: ProbeEvent): void => admission.release(ev.src.text);
    const submit = (ev: ProbeEvent): void => {
      ctx.submit(ev, { onDone: () => release(ev) });
    };
    return {
      async start() {
        const plan = await planFor(mode, conf, ctx);
        if (!plan) return false;
        for (const line of plan.lines) ctx.log(line);
        if (plan.fatal) {
          ctx.log(plan.fatal);
          return false;
        }
        const verifier = new SmartVerifier<ProbeEvent>({ test: isPortInUse, clock: ctx.clock }, submit, release);
        const local = new LocalAddrs(ctx.clock);
        try {
          sensor = openRawSensor({
            mode,
            families: [4, 6],
            clock: ctx.clock,
            isHot: (port) => plan.isHot(port),
            isLocal: (dst) => local.isLocal(dst),
            onProbe: (ev, family) => {
              if (admission.admit(ev.src.text)) verifier.push(ev, proto, family, ev.dstPort);
              else notice.refused();
            },
            onNotice: (n) => ctx.log(L.illegalHeaderLength(P, n.ihl, parseAddr(n.src)?.text ?? n.src)),
          });
        } catch {
          ctx.log(L.cannotOpenRaw(P));
          return false;
        }
        const s = sensor.stats;
        const state = (): RawSensorState => ({
          received: s.received,
          probes: s.probes,
          waiting: admission.waiting,
          waitingSources: admission.sources,
          refused: admission.refused,
          verifyPending: verifier.pending,
          verifyCached: verifier.cached,
          verifyDropped: verifier.dropped,
          verifyInUse: verifier.inUse,
        });
        stateChannel.publish({ mode, state });
        return true;
      },
      async stop() {
        sensor?.close();
        sensor = null;
        notice.stop();
      },
    };
  };
