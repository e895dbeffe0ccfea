import { z } from 'zod';

/**
 * Which stream keys (`APP/STREAM`) a component takes: a glob or a list of globs. `*` matches within one
 * path segment (it never crosses `/`), `**` matches across segments, `?` is one character other than
 * `/`. A glob starting with `!` excludes what it matches; a list of exclusions only means "everything
 * but these". `live/*` takes `live/cam1` but not `vip/cam1` nor `live/cam1/low`.
 */
export type KeyMatcher = (key: string) => boolean;

const GLOB = /^!?[A-Za-z0-9_.\-*?/]+$/;

export const matchOption = z
  .union([z.string(), z.array(z.string()).min(1)])
  .transform((value) => (typeof value === 'string' ? [value] : value))
  .refine((globs) => globs.every((glob) => GLOB.test(glob)), 'a glob uses A-Z a-z 0-9 _ . - / and the wildcards * ** ?, optionally starting with !')
  .describe('stream keys (APP/STREAM) this component takes: a glob or a list (`*` stays within a segment, `**` crosses, `!` excludes)');

export function compileMatch(globs: readonly string[] | undefined): KeyMatcher {
  if (!globs || globs.length === 0) return () => true;
  const include = globs.filter((g) => !g.startsWith('!')).map(globToRegExp);
  const exclude = globs.filter((g) => g.startsWith('!')).map((g) => globToRegExp(g.slice(1)));
  return (key) => (include.length === 0 || include.some((r) => r.test(key))) && !exclude.some((r) => r.test(key));
}

export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') {
      source += '[^/]*';
    } else if (c === '?') {
      source += '[^/]';
    } else {
      source += c.replace(/[.\\+^$()|[\]{}]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

/**
 * Whether two glob lists can both take some key, as far as can be told without enumerating keys:
 * used to refuse a pipeline that would read its own output. Conservative: "maybe" counts as yes.
 */
export function globsMayOverlap(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const positives = (globs: readonly string[] | undefined) => {
    const list = (globs ?? []).filter((g) => !g.startsWith('!'));
    return list.length === 0 ? ['**'] : list;
  };
  return positives(a).some((x) => positives(b).some((y) => globPairMayOverlap(x, y)));
}

/** Two single globs overlap when a key exists that both take; decided segment by segment. */
function globPairMayOverlap(a: string, b: string): boolean {
  if (a.includes('**') || b.includes('**')) return true;
  const sa = a.split('/');
  const sb = b.split('/');
  if (sa.length !== sb.length) return false;
  return sa.every((x, i) => segmentsMayOverlap(x, sb[i]!));
}

function segmentsMayOverlap(a: string, b: string): boolean {
  if (a.includes('*') || b.includes('*') || a.includes('?') || b.includes('?')) {
    // A literal against a pattern is exact; two patterns are assumed to meet (conservative).
    if (!/[*?]/.test(a)) return globToRegExp(b).test(a);
    if (!/[*?]/.test(b)) return globToRegExp(a).test(b);
    return true;
  }
  return a === b;
}
