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
 * Whether some key that `output` produces would be taken by `globs` (its inclusions, less what its
 * exclusions wholly cover). Decided segment by segment without enumerating keys; where it cannot be
 * told, the answer is yes, so a doubtful file is refused rather than left to loop.
 */
export function globsMayTake(globs: readonly string[] | undefined, output: string): boolean {
  const list = globs ?? [];
  const include = list.filter((g) => !g.startsWith('!'));
  const exclude = list.filter((g) => g.startsWith('!')).map((g) => g.slice(1));
  const included = (include.length === 0 ? ['**'] : include).some((g) => globsMeet(g, output));
  return included && !exclude.some((g) => globCovers(g, output));
}

/** `**` stands for any number of segments; stream keys have two, so globs are compared as two. */
function segments(glob: string): string[] {
  if (glob === '**') return ['*', '*'];
  const parts = glob.split('/').map((p) => (p === '**' ? '*' : p));
  return parts.length === 1 ? [parts[0]!, '*'] : parts;
}

function hasWildcard(segment: string): boolean {
  return /[*?]/.test(segment);
}

function globsMeet(a: string, b: string): boolean {
  const sa = segments(a);
  const sb = segments(b);
  return sa.length === sb.length && sa.every((x, i) => segmentsMeet(x, sb[i]!));
}

function segmentsMeet(a: string, b: string): boolean {
  if (!hasWildcard(a)) return hasWildcard(b) ? globToRegExp(b).test(a) : a === b;
  if (!hasWildcard(b)) return globToRegExp(a).test(b);
  return true;
}

/** Whether every key `inner` takes is taken by `outer` (false when not sure). */
function globCovers(outer: string, inner: string): boolean {
  const so = segments(outer);
  const si = segments(inner);
  return so.length === si.length && so.every((o, i) => o === '*' || o === si[i] || (!hasWildcard(si[i]!) && globToRegExp(o).test(si[i]!)));
}

/**
 * The keys a template such as `{app}/{stream}_480p` makes from the keys `input` takes, as a glob:
 * `live/*` gives `live/*_480p`.
 */
export function templateGlob(template: string, input: string): string {
  const [app, stream] = segments(input);
  return template.replaceAll('{key}', `${app}/${stream}`).replaceAll('{app}', app!).replaceAll('{stream}', stream!);
}
