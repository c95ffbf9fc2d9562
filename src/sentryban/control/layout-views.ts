import type { banView } from './handlers.js';

// The replies as the client reads them (the daemon's JSON; --json prints them unchanged).
export type BanView = ReturnType<typeof banView>;
export type CheckRow = { jail: string; backend: string; ok: boolean; repaired: string | null; error: string | null };
export type AuditView = { at: string; jail: string; kind: string; target: string | null; detail: string };
export type TestView = { match: false } | { match: true; id: string; time: string; decisions: string[] };
