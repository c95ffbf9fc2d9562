// Set for every test process and every process a test starts (they inherit the environment): the client checks
// each --json reply against its schema before printing it (src/sentryban/control/schema-check.ts).
process.env.SENTRYBAN_SCHEMA_CHECK = '1';
