// Command templates split once, at load, into an argv: shell-style quoting, no expansion, never a shell.
// Macros such as $TARGET$ (PortSentry) or <ip> (fail2ban) are substituted per argument afterwards.

export type TemplateResult = { ok: true; argv: string[] } | { ok: false; message: string };

const SHELL_HINT = 'commands run without a shell: put pipes, redirects and command lists in a script and call that';

// Split `text` into argv. Refuses what only a shell could give meaning to.
export const splitCommandTemplate = (
  text: string,
  isMacro: (name: string) => boolean = () => false,
): TemplateResult => {
  const argv: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '' | "'" | '"' = '';
  const refuse = (what: string): TemplateResult => ({ ok: false, message: `${what} needs a shell; ${SHELL_HINT}` });
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === "'") {
      if (c === "'") quote = '';
      else cur += c;
      continue;
    }
    if (c === '\\') {
      const n = text[i + 1];
      if (n === undefined) return { ok: false, message: 'trailing backslash' };
      if (quote === '"' && !'"\\$`'.includes(n)) cur += c;
      cur += n;
      i++;
      inWord = true;
      continue;
    }
    if (c === '`') return refuse('a backquote');
    if (c === '$') {
      const rest = text.slice(i + 1);
      const macro = /^([A-Za-z_][A-Za-z0-9_]*)\$/.exec(rest);
      if (macro && isMacro(macro[1] as string)) {
        cur += `$${macro[0]}`;
        i += macro[0].length;
        inWord = true;
        continue;
      }
      if (/^[({A-Za-z_0-9@*#?!$-]/.test(rest)) return refuse(`"$${rest.slice(0, 2)}" (a shell expansion)`);
      cur += c;
      inWord = true;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = '';
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) {
        argv.push(cur);
        cur = '';
        inWord = false;
      }
      continue;
    }
    if ('|&;<>()'.includes(c)) return refuse(`"${c}"`);
    cur += c;
    inWord = true;
  }
  if (quote) return { ok: false, message: `unterminated ${quote} quote` };
  if (inWord) argv.push(cur);
  if (argv.length === 0) return { ok: false, message: 'empty command' };
  return { ok: true, argv };
};

// Replace every $NAME$ in each argument. Values never split an argument and are never re-scanned.
export const substituteMacros = (argv: readonly string[], values: Readonly<Record<string, string>>): string[] =>
  argv.map((arg) => arg.replace(/\$([A-Za-z_][A-Za-z0-9_]*)\$/g, (m, name: string) => values[name] ?? m));
