/**
 * HTTP/1.1 chunked transfer coding (RFC 9112 §7.1), done once per tag so every HTTP-FLV player gets
 * the same bytes. The response headers must say `Transfer-Encoding: chunked` and the transport must
 * write these bytes to the socket itself (node's `res.write` would chunk them a second time).
 */

/** `<size in hex>\r\n<payload>\r\n` in one allocation. An empty payload would end the body: refused. */
export function httpChunk(payload: Buffer | readonly Buffer[]): Buffer {
  const parts = Buffer.isBuffer(payload) ? [payload] : payload;
  let length = 0;
  for (const part of parts) length += part.length;
  if (length === 0) throw new RangeError('an HTTP chunk cannot be empty: a zero-size chunk ends the body');
  const size = length.toString(16);
  const out = Buffer.allocUnsafe(size.length + 2 + length + 2);
  let at = out.write(size, 0, 'latin1');
  out[at++] = 0x0d;
  out[at++] = 0x0a;
  for (const part of parts) at += part.copy(out, at);
  out[at++] = 0x0d;
  out[at] = 0x0a;
  return out;
}

/** The last chunk with no trailers: ends a chunked body. */
export const HTTP_LAST_CHUNK: Buffer = Buffer.from('0\r\n\r\n', 'latin1');
