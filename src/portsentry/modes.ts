import type { DetectionMode } from './event.js';
import type { SensorFactory } from './sensors/types.js';
import { tcpSensor } from './sensors/tcp.js';
import { udpSensor } from './sensors/udp.js';
import { rawSensorFor } from './sensors/raw-mode.js';

// Mode name (the 1.2 flag without its dash) -> sensor. Raw modes are new rows, nothing else changes.
// `privileged`: the mode needs root whatever the ports (raw sockets); port modes need it only for ports < 1024.
export type ModeEntry = { proto: 'tcp' | 'udp'; sensor: SensorFactory; privileged: boolean };

export const MODES: Partial<Record<DetectionMode, ModeEntry>> = {
  tcp: { proto: 'tcp', sensor: tcpSensor, privileged: false },
  udp: { proto: 'udp', sensor: udpSensor, privileged: false },
  stcp: { proto: 'tcp', sensor: rawSensorFor('stcp'), privileged: true },
  sudp: { proto: 'udp', sensor: rawSensorFor('sudp'), privileged: true },
  atcp: { proto: 'tcp', sensor: rawSensorFor('atcp'), privileged: true },
  audp: { proto: 'udp', sensor: rawSensorFor('audp'), privileged: true },
};

export const ALL_MODE_FLAGS: readonly DetectionMode[] = ['tcp', 'udp', 'stcp', 'atcp', 'sudp', 'audp'];
