import type { DetectionMode } from './event.js';

// What the pipeline has seen since start, as plain integers (an increment per probe, nothing more): the metrics
// endpoint (portsentry-metrics.ts) reads them when scraped.
// Port classes as IANA names them: system 0-1023, user 1024-49151, dynamic 49152-65535.
export const PORT_CLASSES = ['system', 'user', 'dynamic'] as const;
export type PortClass = (typeof PORT_CLASSES)[number];
export const COUNTED_MODES: readonly DetectionMode[] = ['tcp', 'udp', 'stcp', 'sudp', 'atcp', 'audp'];
const MODE_ROW: Record<DetectionMode, number> = { tcp: 0, udp: 1, stcp: 2, sudp: 3, atcp: 4, audp: 5 };

export const portClassIndex = (port: number): number => (port < 1024 ? 0 : port < 49152 ? 1 : 2);

export class ProbeCounts {
  // probes[mode row * 3 + port class]
  readonly probes = new Float64Array(COUNTED_MODES.length * PORT_CLASSES.length);
  ignored = 0; // the ignore file (or an address of this host) said so
  alerts = 0; // a detection line was written (SCAN_TRIGGER reached)
  blocks = 0; // every configured response succeeded (or BLOCK_x says respond with nothing)
  blockFailures = 0; // a response failed ("Could not block host")
  alreadyBlocked = 0;

  probe(mode: DetectionMode, port: number): void {
    const i = MODE_ROW[mode] * 3 + portClassIndex(port);
    this.probes[i] = (this.probes[i] ?? 0) + 1;
  }
  // [mode, port class, count] for every count above zero.
  *probeSeries(): Generator<readonly [DetectionMode, PortClass, number]> {
    for (const mode of COUNTED_MODES)
      for (let c = 0; c < PORT_CLASSES.length; c++) {
        const n = this.probes[MODE_ROW[mode] * 3 + c] ?? 0;
        if (n > 0) yield [mode, PORT_CLASSES[c] as PortClass, n];
      }
  }
}
