import { dirname } from 'node:path';
import type { Unreachable } from './client.js';

// sysexits.h codes, one per kind of failure, so that scripts can tell "not running" from "not allowed".
export const EXIT = {
  refused: 1, // the daemon answered with an error (no such jail, ...); `check`: an action failed
  usage: 64, // EX_USAGE: the command line
  software: 70, // EX_SOFTWARE: a --json reply that does not fit its schema (SENTRYBAN_SCHEMA_CHECK=1 only)
  unavailable: 69, // EX_UNAVAILABLE: no daemon at the socket
  tempfail: 75, // EX_TEMPFAIL: no answer in time, or busy all along: try again
  protocol: 76, // EX_PROTOCOL: something answered that is not sentryban
  noperm: 77, // EX_NOPERM: not allowed to use the socket
} as const;

// One sentence that says what happened and what to do; the exit code that goes with it.
export const explainUnreachable = (why: Unreachable, verb: string): { text: string; code: number } => {
  const p = why.path;
  const start = 'start it with `sentryban daemon`, or point at it with --socket';
  switch (why.kind) {
    case 'no-socket':
      return { text: `sentryban is not running (no socket at ${p}): ${start}`, code: EXIT.unavailable };
    case 'stale':
      return {
        text:
          `sentryban is not running (${p} is left over from a daemon that stopped: ` +
          `nothing accepts connections on it): ${start}`,
        code: EXIT.unavailable,
      };
    case 'closed':
      return {
        text:
          `sentryban closed the connection on ${p} without answering (it stopped, or failed): ` +
          `see its log, then ${start}`,
        code: EXIT.unavailable,
      };
    case 'not-allowed':
      return {
        text:
          `permission denied on ${why.detail === 'the folder' ? `${dirname(p)} (the socket's folder)` : p}: ` +
          `only the daemon's user may use it: run \`sudo sentryban ${verb}\`, or as the user the daemon runs as`,
        code: EXIT.noperm,
      };
    case 'foreign-owner':
      return {
        text:
          `${p} belongs to uid ${why.uid}, neither you nor root, so this client will not talk to it: ` +
          `run as uid ${why.uid} or root, or point --socket at your own daemon's socket`,
        code: EXIT.noperm,
      };
    case 'refused-uid':
      return {
        text:
          `the daemon at ${p} serves only root and its own user, not uid ${why.uid}: ` +
          `run \`sudo sentryban ${verb}\``,
        code: EXIT.noperm,
      };
    case 'not-socket':
      return {
        text: `${p} is not a socket: point --socket at the daemon's control socket (\`socket:\` in sentryban.yaml)`,
        code: EXIT.unavailable,
      };
    case 'timeout':
      return {
        text:
          `sentryban did not answer on ${p} within ${why.ms / 1000} s` +
          `${why.busy ? ' (busy with other clients all along)' : ''}: ` +
          'it may be overloaded or stuck; try again, and see its log if it persists',
        code: EXIT.tempfail,
      };
    case 'bad-reply':
      return {
        text:
          `${p} answered with something that is not a sentryban reply (another program listening there?): ` +
          "point --socket at sentryban's socket",
        code: EXIT.protocol,
      };
    case 'other':
      return { text: `cannot reach sentryban at ${p} (${why.detail}): ${start}`, code: EXIT.unavailable };
  }
};
