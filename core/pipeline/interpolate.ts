/**
 * `${VAR}` and `${VAR:-default}` in YAML string values; `$${` is a literal `${`. Applied to scalars
 * after parsing (not to the file text) so that line and column numbers in errors stay exact and a
 * variable's value can never inject YAML structure.
 */
export interface InterpolationResult {
  value: string;
  /** Names referenced without a default and not set in the environment. */
  missing: string[];
}

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolate(text: string, env: Record<string, string | undefined>): InterpolationResult {
  const missing: string[] = [];
  const value = text.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    const current = env[name!];
    if (current !== undefined && current !== '') return current;
    if (fallback !== undefined) return fallback;
    missing.push(name!);
    return '';
  });
  return { value, missing };
}

/** A `${` that does not form a valid reference (e.g. `${1X}` or an unclosed `${A`): reported, not guessed at. */
export function findMalformedReference(text: string): string | undefined {
  const stripped = text.replace(PATTERN, '');
  const at = stripped.indexOf('${');
  return at >= 0 ? stripped.slice(at, at + 20) : undefined;
}
