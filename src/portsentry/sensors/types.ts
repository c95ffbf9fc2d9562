import type { Clock } from '../../core/clock.js';
import type { PortsentryConf } from '../conf.js';
import type { ProbeEvent } from '../event.js';
import type { ProbeHooks } from '../pipeline.js';

// What a sensor gets: somewhere to log its setup lines and somewhere to send events. Nothing else.
export type SensorContext = {
  log: (line: string) => void;
  submit: (ev: ProbeEvent, hooks?: ProbeHooks) => void;
  clock: Clock;
};

export interface Sensor {
  // Binds/opens and logs 1.2's setup lines; false when the mode cannot run (1.2's "could not go into
  // PortSentry mode").
  start(): Promise<boolean>;
  stop(): Promise<void>;
}

export type SensorFactory = (conf: PortsentryConf, ctx: SensorContext) => Sensor;
