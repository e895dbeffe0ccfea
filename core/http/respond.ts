import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answer with a JSON body. HEAD requests get the headers only (node drops the body). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** An error answer: `{ "error": { "status": 404, "message": "..." } }`. */
export function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { status, message } }, headers);
}

/**
 * The API's optional bearer token. Both sides are hashed before comparing, so the comparison is of
 * equal-length digests in constant time: neither the token's content nor its length leaks through timing.
 */
export class BearerAuth {
  readonly #digest: Buffer | undefined;

  constructor(token: string | undefined) {
    this.#digest = token ? sha256(token) : undefined;
  }

  get required(): boolean {
    return this.#digest !== undefined;
  }

  /** Undefined when the request may go on, else why not: no credentials, or wrong ones. */
  check(req: IncomingMessage): 'missing' | 'invalid' | undefined {
    if (!this.#digest) return undefined;
    const header = req.headers.authorization ?? '';
    const match = /^Bearer[ \t]+(.+?)[ \t]*$/i.exec(header);
    if (!match) return 'missing';
    return timingSafeEqual(sha256(match[1]!), this.#digest) ? undefined : 'invalid';
  }

  /** 401 with the WWW-Authenticate challenge RFC 6750 describes. */
  refuse(res: ServerResponse, why: 'missing' | 'invalid'): void {
    const challenge = why === 'missing' ? 'Bearer realm="wsflv"' : 'Bearer realm="wsflv", error="invalid_token"';
    sendError(res, 401, why === 'missing' ? 'this API needs a bearer token (Authorization: Bearer TOKEN)' : 'the bearer token is wrong', {
      'WWW-Authenticate': challenge,
    });
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
