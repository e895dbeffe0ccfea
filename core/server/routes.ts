import { z } from 'zod';
/**
 * The stream URL conventions the live server answers, parsed and validated in one place so the WebSocket
 * and HTTP paths cannot disagree about what a valid stream name is.
 */

/** App and stream names. Keys end up in file names, metric labels and log lines, hence the narrow set. */
const NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export function isValidName(name: string): boolean {
  // `.` and `..` match the character set but are path traversal when a key becomes a file name.
  return NAME.test(name) && !/^\.+$/.test(name);
}

/** What a request for a stream asks for, before the method or subprotocol says publish or play. */
/** The `apps` option of live components: which apps they take (default: any). */
export function appsOption(what: string) {
  return z.array(z.string().refine(isValidName, 'app names use A-Z a-z 0-9 _ . -')).min(1).optional().describe(`only ${what} of these apps (default: any app)`);
}

export interface StreamTarget {
  app: string;
  stream: string;
  key: string;
  /**
   * `path`: `/APP/STREAM.flv`, whose direction comes from the method (HTTP) or subprotocol (WebSocket).
   * `publish` / `play`: `/publish?app=…&stream=…` and `/play?…`, whose direction is in the path.
   */
  convention: 'path' | 'publish' | 'play';
  query: Record<string, string>;
}

export type RouteMatch =
  | { kind: 'stream'; target: StreamTarget }
  /** A stream URL that is malformed: answer 400 with `message`. */
  | { kind: 'invalid'; message: string }
  /** Not a stream URL: custom routes get a chance, then 404. */
  | { kind: 'other'; pathname: string; query: Record<string, string> };

/** Parse a request target (`req.url`). Never throws: every malformed input is an `invalid` match. */
export function matchRequest(rawUrl: string | undefined): RouteMatch {
  if (!rawUrl || !rawUrl.startsWith('/')) return { kind: 'invalid', message: 'request target must be an absolute path' };
  let url: URL;
  try {
    url = new URL(rawUrl, 'http://localhost');
  } catch {
    return { kind: 'invalid', message: 'malformed request target' };
  }
  let query: Record<string, string>;
  try {
    query = parseQuery(url.search);
  } catch (error) {
    return { kind: 'invalid', message: (error as Error).message };
  }
  const pathname = url.pathname;
  if (pathname === '/publish' || pathname === '/play') {
    const convention = pathname === '/publish' ? 'publish' : 'play';
    const { app, stream } = query;
    if (app === undefined || stream === undefined) {
      return { kind: 'invalid', message: `${pathname} needs the query parameters app and stream` };
    }
    return target(app, stream, convention, query);
  }
  if (pathname.endsWith('.flv')) {
    const segments = pathname.slice(1).split('/');
    if (segments.length !== 2) return { kind: 'invalid', message: 'stream URLs have the form /APP/STREAM.flv' };
    const [app, file] = segments as [string, string];
    return target(app, file.slice(0, -'.flv'.length), 'path', query);
  }
  return { kind: 'other', pathname, query };
}

function target(app: string, stream: string, convention: StreamTarget['convention'], query: Record<string, string>): RouteMatch {
  for (const [what, name] of [['app', app], ['stream', stream]] as const) {
    if (!isValidName(name)) {
      return { kind: 'invalid', message: `invalid ${what} name ${JSON.stringify(name.slice(0, 64))}: use 1-128 of A-Z a-z 0-9 _ . -` };
    }
  }
  return { kind: 'stream', target: { app, stream, key: `${app}/${stream}`, convention, query } };
}

/**
 * URLSearchParams silently keeps broken percent escapes; a query we would pass on to hooks and the API
 * should either mean what it says or be refused. The first value of a repeated parameter wins.
 */
function parseQuery(search: string): Record<string, string> {
  // A Map, then fromEntries: assigning a `__proto__` key to a plain object would replace its prototype.
  const query = new Map<string, string>();
  if (search.length <= 1) return {};
  for (const part of search.slice(1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawKey = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? '' : part.slice(eq + 1);
    const key = decodeComponent(rawKey);
    const value = decodeComponent(rawValue);
    if (!query.has(key)) query.set(key, value);
  }
  return Object.fromEntries(query);
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new Error(`malformed query string: bad percent escape in ${JSON.stringify(text.slice(0, 64))}`);
  }
}
