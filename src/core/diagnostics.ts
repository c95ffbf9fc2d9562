// Errors are values. A Diagnostic says where (file:line:col and a dotted path) and what.
export type Diagnostic = { file: string; line: number; col: number; path: string; message: string };
export type Result<T> = { ok: true; value: T } | { ok: false; errors: Diagnostic[] };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T>(errors: Diagnostic[]): Result<T> => ({ ok: false, errors });

export const diag = (file: string, line: number, message: string, path = '', col = 0): Diagnostic => ({
  file,
  line,
  col,
  path,
  message,
});

// "jails/sshd.yaml:12:5: jails.sshd.maxretry: expected a positive integer, got "three""
export const formatDiagnostic = (d: Diagnostic): string => {
  const where = d.line > 0 ? `${d.file}:${d.line}${d.col > 0 ? `:${d.col}` : ''}` : d.file;
  return `${where}: ${d.path ? `${d.path}: ` : ''}${d.message}`;
};

// Exit code for a refused configuration (sysexits EX_CONFIG, as SSHGuard uses).
export const EX_CONFIG = 78;

// Levenshtein distance, for "did you mean" hints on unknown keys.
export const closest = (word: string, candidates: readonly string[]): string | undefined => {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
};

const editDistance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
};
