import { createHmac, timingSafeEqual } from 'node:crypto';
import { matchRequest } from '../server/routes.js';

/**
 * Signed stream URLs: `?expires=UNIX_SECONDS&sign=HEX`, where
 *
 *   sign = lowercase hex of HMAC-SHA256(secret, "/APP/STREAM.flv:EXPIRES")
 *
 * (the key is the secret's UTF-8 bytes, the message is ASCII).
 *
 * The signed path is always the canonical `/APP/STREAM.flv`, whichever URL form is used
 * (`/APP/STREAM.flv`, `/publish?app=APP&stream=STREAM`, `/play?…`, any scheme, host or port), so one
 * signature serves every form. EXPIRES is written exactly as in the URL: decimal, no sign, no leading
 * zero. The URL is valid up to and including the second EXPIRES. Other query parameters are not signed.
 * Publish and play are told apart by their secrets (`publishSecret`, `playSecret`): use two different ones.
 */

/** What is signed for a stream and an expiry. */
export function signedMessage(app: string, stream: string, expires: number | string): string {
  return `/${app}/${stream}.flv:${expires}`;
}

/** The `sign` parameter for a stream and an expiry (64 lowercase hex digits). */
export function signature(secret: string, app: string, stream: string, expires: number | string): string {
  return createHmac('sha256', secret).update(signedMessage(app, stream, expires)).digest('hex');
}

export type SignatureCheck = { ok: true } | { ok: false; problem: 'missing' | 'invalid' | 'expired' };

const EXPIRES = /^(0|[1-9][0-9]{0,11})$/;
const SIGN = /^[0-9a-fA-F]{64}$/;

/**
 * Check a request's `expires` and `sign` against `secret`. The signature is checked first (in constant
 * time), so only a genuine URL is ever told that it expired.
 */
export function checkSignature(secret: string, app: string, stream: string, query: Record<string, string>, nowSeconds: number): SignatureCheck {
  const { expires, sign } = query;
  if (expires === undefined && sign === undefined) return { ok: false, problem: 'missing' };
  if (expires === undefined || sign === undefined || !EXPIRES.test(expires) || !SIGN.test(sign)) return { ok: false, problem: 'invalid' };
  const expected = createHmac('sha256', secret).update(signedMessage(app, stream, expires)).digest();
  const given = Buffer.from(sign, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, problem: 'invalid' };
  if (Number(expires) < nowSeconds) return { ok: false, problem: 'expired' };
  return { ok: true };
}

/**
 * `url` (ws, wss, http or https; any of the stream URL forms) with `expires` and `sign` set for it;
 * an `expires` or `sign` already there is replaced, other parameters are kept.
 */
export function signUrl(url: string, secret: string, expires: number): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`not an absolute URL: ${url}`);
  }
  if (!/^(wss?|https?|rtmps?):$/.test(parsed.protocol)) throw new Error(`not a ws://, wss://, http://, https://, rtmp:// or rtmps:// URL: ${url}`);
  if (!Number.isSafeInteger(expires) || expires < 0 || !EXPIRES.test(String(expires))) throw new Error(`expires must be UNIX seconds, got ${expires}`);
  let app: string;
  let stream: string;
  if (parsed.protocol.startsWith('rtmp')) {
    // rtmp://HOST/APP/STREAM: the query rides on the stream name, as RTMP clients send it.
    const parts = parsed.pathname.split('/').filter(Boolean);
    if (parts.length !== 2) throw new Error(`not an RTMP stream URL (rtmp://HOST/APP/STREAM): ${url}`);
    [app, stream] = parts as [string, string];
  } else {
    const match = matchRequest(`${parsed.pathname}${parsed.search}`);
    if (match.kind === 'invalid') throw new Error(`not a stream URL: ${match.message}`);
    if (match.kind === 'other') throw new Error(`not a stream URL (/APP/STREAM.flv, /publish?app=&stream=, /play?app=&stream=): ${url}`);
    ({ app, stream } = match.target);
  }
  parsed.searchParams.delete('expires');
  parsed.searchParams.delete('sign');
  parsed.searchParams.append('expires', String(expires));
  parsed.searchParams.append('sign', signature(secret, app, stream, expires));
  return parsed.toString();
}
