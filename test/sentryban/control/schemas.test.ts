import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { VERBS } from '../../../src/sentryban/control/protocol.js';
import { SCHEMA_DIR, schemaProblem } from '../../../src/sentryban/control/schema-check.js';

// The schemas themselves: one per verb, each valid draft-07 under ajv's strict mode, versioned in name and $id;
// and the check the client runs in the suite (SENTRYBAN_SCHEMA_CHECK) refuses what does not fit.
describe('JSON schemas of the client replies', () => {
  const files = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json'));

  it('one versioned schema per verb, each compiling in strict mode', () => {
    // every control verb, and replay's JSON lines
    expect(files.sort()).toEqual([...VERBS, 'replay'].map((v) => `${v}.v1.json`).sort());
    for (const f of files) {
      const schema = JSON.parse(readFileSync(`${SCHEMA_DIR}${f}`, 'utf8')) as { $id: string; $schema: string };
      expect(schema.$id).toBe(`https://sentrytools.invalid/schemas/sentryban/${f}`);
      expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
      expect(() => new Ajv({ strict: true, allErrors: true }).compile(schema)).not.toThrow();
    }
  });

  it('the check refuses a reply that does not fit, and names what is wrong', async () => {
    const ban = {
      jail: 'sshd',
      target: '192.0.2.5',
      bannedAt: '2026-12-07T02:00:00.000Z',
      expiresAt: null,
      bantime: '-1',
      banCount: 1,
      applied: 'applied',
      backends: { 'nftables:sshd': 'applied' },
    };
    expect(await schemaProblem('list', [ban])).toBeNull();
    expect(await schemaProblem('list', [{ ...ban, applied: 'maybe' }])).toBe(
      'list/0/applied must be equal to one of the allowed values',
    );
    expect(await schemaProblem('list', [{ ...ban, extra: 1 }])).toBe('list/0 must NOT have additional properties');
    expect(await schemaProblem('unban', { unbanned: -1 })).toBe('unban/unbanned must be >= 0');
    expect(await schemaProblem('banned', [])).toBeNull();
    expect(await schemaProblem('test', { match: true })).toMatch(/must have required property 'id'/);
  });

  it('is on for every process the suite starts', () => {
    expect(process.env.SENTRYBAN_SCHEMA_CHECK).toBe('1');
  });
});
