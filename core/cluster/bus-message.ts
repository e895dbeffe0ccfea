import { WsflvError } from '../errors.js';

/**
 * The binary messages one node sends another over NATS for one stream feed. A feed is a run of
 * messages numbered from 0 (`seq`); a batch of FLV tags larger than the bus takes is split across
 * consecutive messages (`part` of `parts`). Layout, big-endian:
 *
 *   0  kind   u8   1 = media (FLV bytes), 2 = end (UTF-8 JSON `{ code, reason }`)
 *   1  flags  u8   bit 0: first message of the feed
 *   2  seq    u32
 *   6  part   u16
 *   8  parts  u16  >= 1, part < parts
 *  10  payload
 */
export const BUS_HEADER_BYTES = 10;
export const BUS_KIND = { media: 1, end: 2 } as const;
const FLAG_START = 1;
const MAX_PARTS = 0xffff;

export interface BusMessage {
  kind: 'media' | 'end';
  /** The first message of a feed (the origin started a new one for this node). */
  start: boolean;
  seq: number;
  part: number;
  parts: number;
  payload: Buffer;
}

/** A bus message that is not one: too short, of an unknown kind, impossible parts. */
export class BusMessageError extends WsflvError {
  constructor(message: string) {
    super('WSFLV_ERR_CLUSTER_MESSAGE', `bad cluster bus message: ${message}`);
  }
}

/** Parses one message; the payload is a view of `data`. Throws BusMessageError. */
export function decodeBusMessage(data: Uint8Array): BusMessage {
  if (data.length < BUS_HEADER_BYTES) throw new BusMessageError(`${data.length} bytes, the header alone is ${BUS_HEADER_BYTES}`);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const kindByte = buf[0]!;
  const kind = kindByte === BUS_KIND.media ? 'media' : kindByte === BUS_KIND.end ? 'end' : undefined;
  if (!kind) throw new BusMessageError(`unknown kind ${kindByte}`);
  const flags = buf[1]!;
  if ((flags & ~FLAG_START) !== 0) throw new BusMessageError(`unknown flags 0x${flags.toString(16)}`);
  const seq = buf.readUInt32BE(2);
  const part = buf.readUInt16BE(6);
  const parts = buf.readUInt16BE(8);
  if (parts === 0 || part >= parts) throw new BusMessageError(`part ${part} of ${parts}`);
  if (kind === 'end' && parts !== 1) throw new BusMessageError('an end message is never split');
  return { kind, start: (flags & FLAG_START) !== 0, seq, part, parts, payload: buf.subarray(BUS_HEADER_BYTES) };
}

function header(kind: number, start: boolean, seq: number, part: number, parts: number): Buffer {
  const out = Buffer.allocUnsafe(BUS_HEADER_BYTES);
  out[0] = kind;
  out[1] = start ? FLAG_START : 0;
  out.writeUInt32BE(seq >>> 0, 2);
  out.writeUInt16BE(part, 6);
  out.writeUInt16BE(parts, 8);
  return out;
}

/**
 * The messages that carry `frames` (whole FLV tags, or the FLV header) as one batch, numbered from
 * `seq`, none with a payload over `maxPayload` bytes. A batch of one message is one allocation.
 */
export function encodeMediaBatch(frames: readonly Buffer[], count: number, seq: number, start: boolean, maxPayload: number): Buffer[] {
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += frames[i]!.length;
  const room = Math.max(1, maxPayload - BUS_HEADER_BYTES);
  const parts = Math.max(1, Math.ceil(bytes / room));
  if (parts > MAX_PARTS) throw new BusMessageError(`a batch of ${bytes} bytes needs ${parts} parts`);
  const body = Buffer.allocUnsafe(BUS_HEADER_BYTES * parts + bytes);
  // Written as one buffer and cut into views: one copy of the tags, whatever the number of parts.
  const out: Buffer[] = [];
  let frame = 0;
  let within = 0;
  let at = 0;
  for (let part = 0; part < parts; part++) {
    const size = Math.min(room, bytes - part * room);
    const start_ = at;
    header(BUS_KIND.media, start && part === 0, seq + part, part, parts).copy(body, at);
    at += BUS_HEADER_BYTES;
    let left = size;
    while (left > 0) {
      const src = frames[frame]!;
      const n = Math.min(left, src.length - within);
      src.copy(body, at, within, within + n);
      at += n;
      left -= n;
      within += n;
      if (within === src.length) {
        frame++;
        within = 0;
      }
    }
    out.push(body.subarray(start_, at));
  }
  return out;
}

/** The message that tells the receiving node its feed ended, and why (a close code for its players). */
export function encodeEnd(seq: number, code: number, reason: string): Buffer {
  return Buffer.concat([header(BUS_KIND.end, false, seq, 0, 1), Buffer.from(JSON.stringify({ code, reason }))]);
}

/** An end message's payload; a malformed one still ends the feed, as "ended". */
export function decodeEnd(payload: Buffer): { code: number; reason: string } {
  try {
    const value = JSON.parse(payload.toString('utf8')) as { code?: unknown; reason?: unknown };
    const code = typeof value.code === 'number' && Number.isInteger(value.code) && value.code >= 1000 && value.code < 5000 ? value.code : 4410;
    return { code, reason: typeof value.reason === 'string' ? value.reason.slice(0, 120) : 'the stream ended on its origin node' };
  } catch {
    return { code: 4410, reason: 'the stream ended on its origin node' };
  }
}
