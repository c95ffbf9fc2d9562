// ${NAME} and ${NAME:-default} in a path (logpath, state), from the environment; an unset name without a
// default is an error.
export const expandEnv = (text: string, err: (msg: string) => void): string =>
  text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, dflt: string | undefined) => {
    const v = process.env[name];
    if (v !== undefined && v !== '') return v;
    if (dflt !== undefined) return dflt;
    err(`environment variable ${name} is not set (write \${${name}:-default} for a fallback)`);
    return '';
  });
