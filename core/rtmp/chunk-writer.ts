import type { RtmpMessage } from './messages.js';

/** Bytes of the basic header for `csid` (1 to 3). */
function basicHeaderSize(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function writeBasicHeader(out: Buffer, at: number, fmt: number, csid: number): number {
  if (csid < 64) {
    out[at] = (fmt << 6) | csid;
    return at + 1;
  }
  if (csid < 320) {
    out[at] = fmt << 6;
    out[at + 1] = csid - 64;
    return at + 2;
  }
  out[at] = (fmt << 6) | 1;
  out.writeUInt16LE(csid - 64, at + 1);
  return at + 3;
}

/** Total bytes `chunkMessage` makes of a message of `length` bytes. */
export function chunkedSize(csid: number, length: number, chunkSize: number, timestamp: number): number {
  const extended = timestamp >= 0xffffff ? 4 : 0;
  const chunks = Math.max(1, Math.ceil(length / chunkSize));
  const basic = basicHeaderSize(csid);
  return basic + 11 + extended + (chunks - 1) * (basic + extended) + length;
}

/**
 * One message as RTMP chunks in one buffer: a type-0 header (absolute timestamp, so any chunk stream
 * state of the peer is overwritten and a joiner needs no history), then type-3 continuation headers
 * every `chunkSize` bytes. Timestamps from 0xFFFFFF up go in the extended field, repeated on every
 * continuation chunk as the spec asks. Done once per message, whatever the number of peers.
 */
export function chunkMessage(message: RtmpMessage, chunkSize: number, payload: Buffer = message.payload): Buffer {
  const { csid, type, streamId } = message;
  const timestamp = message.timestamp >>> 0;
  const length = payload.length;
  const out = Buffer.allocUnsafe(chunkedSize(csid, length, chunkSize, timestamp));
  const extended = timestamp >= 0xffffff;
  let at = writeBasicHeader(out, 0, 0, csid);
  out.writeUIntBE(extended ? 0xffffff : timestamp, at, 3);
  out.writeUIntBE(length, at + 3, 3);
  out[at + 6] = type;
  out.writeUInt32LE(streamId >>> 0, at + 7);
  at += 11;
  if (extended) at = out.writeUInt32BE(timestamp, at);
  let sent = 0;
  for (;;) {
    const take = Math.min(chunkSize, length - sent);
    at += payload.copy(out, at, sent, sent + take);
    sent += take;
    if (sent >= length) break;
    at = writeBasicHeader(out, at, 3, csid);
    if (extended) at = out.writeUInt32BE(timestamp, at);
  }
  return out;
}
