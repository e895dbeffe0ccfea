/**
 * Server-to-client WebSocket framing (RFC 6455 §5.2), done once per tag so every player socket gets
 * the same bytes. Server frames are never masked, so a frame is the header plus the payload verbatim.
 */

const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;
const FIN = 0x80;

/** Header size for a payload of `length` bytes: 2, 4 (16-bit length) or 10 (64-bit length). */
export function wsHeaderSize(length: number): number {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10;
}

/**
 * One unfragmented, unmasked frame: header and payload in a single allocation, so a write hands
 * the kernel one contiguous buffer. `parts` are concatenated as the payload.
 */
export function wsFrame(payload: Buffer | readonly Buffer[], opcode = OPCODE_BINARY): Buffer {
  const parts = Buffer.isBuffer(payload) ? [payload] : payload;
  let length = 0;
  for (const part of parts) length += part.length;
  const out = Buffer.allocUnsafe(wsHeaderSize(length) + length);
  let at = writeWsHeader(out, length, opcode);
  for (const part of parts) at += part.copy(out, at);
  return out;
}

/**
 * Write the header of a frame carrying `length` payload bytes at the start of `out` (which has room
 * for `wsHeaderSize(length)` bytes there); returns where the payload starts.
 */
export function writeWsHeader(out: Buffer, length: number, opcode = OPCODE_BINARY): number {
  out[0] = FIN | opcode;
  if (length < 126) {
    out[1] = length;
    return 2;
  }
  if (length < 0x10000) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
    return 4;
  }
  out[1] = 127;
  // Payloads are far below 2^53, so the high word fits the Number split exactly.
  out.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
  out.writeUInt32BE(length >>> 0, 6);
  return 10;
}

/** A binary data frame (opcode 2), the framing WebSocket-FLV uses for every FLV chunk. */
export function wsBinaryFrame(payload: Buffer | readonly Buffer[]): Buffer {
  return wsFrame(payload, OPCODE_BINARY);
}

/**
 * A close frame with a status code and a reason. Control frames carry at most 125 bytes, so the
 * reason is cut to 123 UTF-8 bytes without splitting a character.
 */
export function wsCloseFrame(code: number, reason = ''): Buffer {
  let text = Buffer.from(reason, 'utf8');
  if (text.length > 123) {
    let end = 123;
    // Back off continuation bytes (10xxxxxx) so the cut lands on a character boundary.
    while (end > 0 && (text[end]! & 0xc0) === 0x80) end--;
    text = text.subarray(0, end);
  }
  const status = Buffer.allocUnsafe(2);
  status.writeUInt16BE(code, 0);
  return wsFrame([status, text], OPCODE_CLOSE);
}
