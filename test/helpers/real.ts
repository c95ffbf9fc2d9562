import { execFileSync } from 'node:child_process';
import { it } from '@jest/globals';

// Tests that need root, namespaces or a peer tool. Outside CI they skip with a reason; in CI (CI=true, root)
// a missing prerequisite is a failure, never a silent skip.
const isCi = process.env.CI === 'true';
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export const hasCommand = (cmd: string): boolean => {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

// Returns the reason the test cannot run here, or null.
export const missing = (needs: { root?: boolean; commands?: string[] }): string | null => {
  if (needs.root && !isRoot) return 'needs root';
  for (const c of needs.commands ?? []) if (!hasCommand(c)) return `needs ${c}`;
  return null;
};

type Fn = () => unknown; // a value or a Promise of one

// it() that runs when its needs are met; skips with the reason otherwise, but fails in CI.
export const itReal = (needs: { root?: boolean; commands?: string[] }) => {
  const why = missing(needs);
  return (name: string, fn: Fn, timeout?: number): void => {
    if (!why) {
      it(name, fn as () => Promise<unknown>, timeout);
      return;
    }
    if (isCi) {
      it(name, () => {
        throw new Error(`cannot run in CI: ${why}`);
      });
      return;
    }
    // Skipped only off CI, with its reason in the name (not root, or a peer tool absent); CI runs it or fails above.
    it.skip(`${name} [${why}]`, () => {}); // reason: `why` (missing root or tools), printed in the test's name
  };
};
