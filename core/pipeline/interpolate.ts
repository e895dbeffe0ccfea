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

/** First code unit of a protected reference; the next two carry its index, the rest pad it to length. */
const MARK = 0xe000;
const INDEX_BASE = 0xe100;
const PAD = String.fromCharCode(0xe001);
const PROTECTED = /\ue000([\ue100-\uf0ff])([\ue100-\uf0ff])\ue001*/g;

/**
 * `${…}` contains `{`, `}` and `:`, which end a plain scalar inside a YAML flow map (`{ max: ${N:-20} }`)
 * and break the whole map. Before parsing, each reference is swapped for a run of private-use
 * characters of exactly its length (so every line and column stays exact); `restoreReferences` puts
 * the originals back into each parsed scalar, where interpolation then happens as usual.
 */
export function protectReferences(text: string): { text: string; references: string[] } {
  const references: string[] = [];
  const protectedText = text.replace(PATTERN, (match) => {
    const index = references.push(match) - 1;
    if (index >= 0xf00 * 0xf00 || match.length < 3) return match;
    const head = String.fromCharCode(MARK, INDEX_BASE + Math.floor(index / 0xf00), INDEX_BASE + (index % 0xf00));
    return head + PAD.repeat(match.length - 3);
  });
  return { text: protectedText, references };
}

export function restoreReferences(text: string, references: readonly string[]): string {
  if (!text.includes('\ue000')) return text;
  return text.replace(PROTECTED, (match, high: string, low: string) => {
    const index = (high.charCodeAt(0) - INDEX_BASE) * 0xf00 + (low.charCodeAt(0) - INDEX_BASE);
    return references[index] ?? match;
  });
}
