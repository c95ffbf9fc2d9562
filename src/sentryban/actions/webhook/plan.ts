import type { Ban } from '../../types.js';
import { elementText } from '../targets.js';

// The body of one webhook notice: plain data, versioned, the same for a live ban and one sent by a repair.
export type NoticeEvent = 'ban' | 'unban';
export type Notice = {
  version: 1;
  event: NoticeEvent;
  jail: string;
  target: string; // the address alone for a host, addr/bits for a prefix
  bantime: number; // seconds; -1: permanent
  bannedAt: string; // ISO 8601, UTC
  expiresAt: string | null; // null: permanent
  banCount: number;
  lines: readonly string[]; // the lines that led to the ban (empty for unban, a manual ban, or a ban restored at start)
  host: string;
  sentAt: string;
};

export const noticeOf = (
  event: NoticeEvent,
  ban: Ban,
  lines: readonly string[],
  host: string,
  now: number,
): Notice => ({
  version: 1,
  event,
  jail: ban.jail,
  target: elementText(ban.target), // the address alone for a host, addr/bits for a prefix
  bantime: ban.bantimeSec,
  bannedAt: new Date(ban.bannedAt).toISOString(),
  expiresAt: ban.expiresAt === null ? null : new Date(ban.expiresAt).toISOString(),
  banCount: ban.banCount,
  lines: event === 'ban' ? lines : [],
  host,
  sentAt: new Date(now).toISOString(),
});

// The URL as it may appear in a log line or an audit row: no user name or password.
export const redactUrl = (url: URL): string => {
  if (!url.username && !url.password) return url.href;
  const u = new URL(url.href);
  u.username = '';
  u.password = '';
  return u.href;
};
