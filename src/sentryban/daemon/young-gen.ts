import { setFlagsFromString } from 'node:v8';

// V8 doubles the young generation under allocation pressure (module loading, a burst of log lines), up to three
// 16 MiB semi-spaces, and keeps it while idle: after a burst that was a third of the daemon's RSS. Growth factor 1
// keeps it at its initial size; a burst then costs more (cheap) scavenges instead of memory. Loaded first by
// bin/sentryban (and main.ts), so that it applies before the other modules load. Nothing but the young
// generation's size changes.
try {
  setFlagsFromString('--semi-space-growth-factor=1');
} catch {
  /* an unknown flag only costs memory */
}
