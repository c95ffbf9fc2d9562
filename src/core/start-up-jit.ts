import { setFlagsFromString } from 'node:v8';

// Start-up code runs once, yet it is hot enough for V8's optimizing compiler: Node's CommonJS export scanner
// (parseSource, run over ipaddr.js and better-sqlite3 when ESM imports them), the YAML parser, the regex
// translation. Each optimization costs compiler memory (its zones, on the compiler threads' malloc arenas, which
// the process keeps) and touches megabytes of the compiler's code in the node binary: an idle daemon held
// 5-14 MiB more for code it never runs again. The launchers (bin/) hold the optimizer back before anything else
// loads; each daemon releases it once its start-up is done, before its first line or probe, so that the code that
// runs under load is optimized as before. A fallback timer releases it in any case; nothing else changes.
// setFlagsFromString after V8 is up is allowed by Node (it starts V8 with --no-freeze-flags-after-init), and V8
// reads this flag each time it considers a function for optimization.
const FALLBACK_MS = 10_000;
let fallback: NodeJS.Timeout | null = null;

const setFlag = (flag: string): boolean => {
  try {
    setFlagsFromString(flag);
    return true;
  } catch {
    return false; // an unknown flag only costs memory
  }
};

// Called first by bin/sentryban and bin/portsentry (before the rest of the program is loaded).
export const holdOptimizer = (): void => {
  if (fallback || !setFlag('--no-opt')) return;
  fallback = setTimeout(releaseOptimizer, FALLBACK_MS);
  fallback.unref();
};

// Once start-up is over (idempotent; a no-op when nothing was held, as when main() runs inside a test).
export const releaseOptimizer = (): void => {
  if (!fallback) return;
  clearTimeout(fallback);
  fallback = null;
  setFlag('--opt');
};
