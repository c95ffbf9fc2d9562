import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The JSON contract: every `--json` reply has a schema, schemas/sentryban/<verb>.v1.json (draft-07; the version is
// in the name and $id). With SENTRYBAN_SCHEMA_CHECK=1 (the test suite sets it for every process it starts) the
// client validates each reply against its schema before printing it, so every `--json` reply in the suite is
// checked by a real validator (ajv, a dev dependency, loaded only then).
export const SCHEMA_DIR = fileURLToPath(new URL('../../../schemas/sentryban/', import.meta.url));
export const schemaFile = (verb: string): string => `${SCHEMA_DIR}${verb}.v1.json`;

export const schemaCheckOn = (): boolean => process.env.SENTRYBAN_SCHEMA_CHECK === '1';

// null when the value fits the verb's schema; otherwise what does not, in ajv's words.
export const schemaProblem = async (verb: string, value: unknown): Promise<string | null> => {
  const { Ajv } = await import('ajv');
  const ajv = new Ajv({ allErrors: true, strict: true });
  const validate = ajv.compile(JSON.parse(readFileSync(schemaFile(verb), 'utf8')) as object);
  if (validate(value)) return null;
  return ajv.errorsText(validate.errors, { dataVar: verb });
};
