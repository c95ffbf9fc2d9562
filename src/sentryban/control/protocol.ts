// Control socket messages: one JSON object per line, each with a version. Verbs match the CLI.
export const PROTOCOL_VERSION = 1;
export const VERBS = [
  'status',
  'ban',
  'unban',
  'list',
  'audit',
  'test',
  'check',
  'reload',
  'banned',
  'flush',
  'get',
] as const;
export type Verb = (typeof VERBS)[number];
export type Request = { version: number; verb: Verb; args: Record<string, string | number | undefined> };
export type Reply = { version: number; ok: true; result: unknown } | { version: number; ok: false; error: string };

export const parseRequest = (line: string): Request | string => {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (typeof v !== 'object' || v === null) return 'expected a JSON object';
  const r = v as Partial<Request>;
  if (r.version !== PROTOCOL_VERSION)
    return `unsupported protocol version ${String(r.version)} (this daemon speaks ${PROTOCOL_VERSION})`;
  if (!VERBS.includes(r.verb as Verb)) return `unknown verb "${String(r.verb)}" (known: ${VERBS.join(', ')})`;
  if (r.args !== undefined && (typeof r.args !== 'object' || r.args === null)) return 'args must be an object';
  return { version: r.version, verb: r.verb as Verb, args: r.args ?? {} };
};
