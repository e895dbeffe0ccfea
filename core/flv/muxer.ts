/**
 * FLV writing: the file header and one self-contained buffer per tag.
 *
 * A tag buffer holds the tag header, the body and the PreviousTagSize that follows it, so that a
 * live fan-out can hand the same buffer to every player (and a player joining mid-stream only needs
 * the file header plus whole tag buffers).
 */
import { FlvTagHeaderError, FlvTagTooLargeError } from '../errors.js';
import { TAG_TYPE, type MediaPacket } from '../media/packet.js';
import { encodeScriptData } from './amf0.js';

const FLV_HEADER_SIZE = 9;
const FLV_TAG_HEADER_SIZE = 11;
/** The tag's DataSize field is 24 bits. */
const FLV_MAX_BODY_SIZE = 0xffffff;

/** The 9-byte FLV header followed by PreviousTagSize0 (13 bytes in all). */
export function muxFlvHeader(tracks: { audio: boolean; video: boolean }): Buffer {
  const out = Buffer.alloc(FLV_HEADER_SIZE + 4);
  out.write('FLV', 0, 'latin1');
  out[3] = 1;
  out[4] = (tracks.audio ? 0x04 : 0) | (tracks.video ? 0x01 : 0);
  out.writeUInt32BE(FLV_HEADER_SIZE, 5);
  // Bytes 9..12 are PreviousTagSize0, always 0; Buffer.alloc already zeroed them.
  return out;
}

/**
 * FLV's 32-bit millisecond timestamp for a dts.
 *
 * - Non-integers are rounded to the nearest millisecond: the format has no finer unit.
 * - Negative and non-finite values become 0: the field is unsigned, and letting -1 wrap to 2^32 - 1
 *   would make players jump 49 days ahead. (Sources that start below zero should be rebased upstream.)
 * - Values from 2^32 on wrap modulo 2^32, as the 24-bit timestamp plus 8-bit extension does on the
 *   wire; a reader that tracks rollover sees a continuous clock.
 */
export function flvTimestamp(dts: number): number {
  if (!(dts > 0) || dts === Infinity) return 0;
  return Math.round(dts) % 0x1_0000_0000;
}

/**
 * One FLV tag as a single buffer: 11-byte header, body, 4-byte PreviousTagSize (11 + body length).
 * The only allocation is the returned buffer; the body is copied into it once.
 */
export function muxTag(packet: Pick<MediaPacket, 'kind' | 'dts' | 'body'>): Buffer {
  return writeTag(packet, 0, 0);
}

/** The bytes `muxTag` makes for a body of `bodyLength`: tag header, body and PreviousTagSize. */
export function muxedTagSize(bodyLength: number): number {
  return FLV_TAG_HEADER_SIZE + bodyLength + 4;
}

/**
 * `muxTag` into a buffer with `headroom` bytes free in front of the tag, for a framing header the
 * caller writes there (a WebSocket frame header): framed bytes and FLV bytes then share one
 * allocation, and the tag is `out.subarray(headroom)`. `allocate` gives that buffer (a slab's,
 * core/live/tag-slab.ts); by default its own.
 */
export function muxTagWithHeadroom(packet: Pick<MediaPacket, 'kind' | 'dts' | 'body'>, headroom: number, allocate: (size: number) => Buffer = Buffer.allocUnsafe): Buffer {
  return writeTag(packet, 0, headroom, allocate);
}

/**
 * An `onMetaData` script tag. Always the plain form: the `@setDataFrame` wrapper is an RTMP command
 * for the server, and FLV files and HTTP/WebSocket-FLV players expect the unwrapped tag.
 */
export function muxMetadata(metadata: Record<string, unknown>, dts = 0): Buffer {
  return writeTag({ kind: 'script', dts, body: encodeScriptData('onMetaData', [metadata]) }, 0, 0);
}

/** Convenience for file writers: remembers how many bytes it produced (the offset of the next tag). */
export class FlvMuxer {
  bytesWritten = 0;

  header(tracks: { audio: boolean; video: boolean }): Buffer {
    const out = muxFlvHeader(tracks);
    this.bytesWritten += out.length;
    return out;
  }

  tag(packet: Pick<MediaPacket, 'kind' | 'dts' | 'body'>): Buffer {
    const out = writeTag(packet, this.bytesWritten, 0);
    this.bytesWritten += out.length;
    return out;
  }

  metadata(metadata: Record<string, unknown>, dts = 0): Buffer {
    return this.tag({ kind: 'script', dts, body: encodeScriptData('onMetaData', [metadata]) });
  }
}

/** `at` is the stream offset the tag would be written at, reported in errors; the tag starts at `headroom`. */
function writeTag(packet: Pick<MediaPacket, 'kind' | 'dts' | 'body'>, at: number, headroom: number, allocate: (size: number) => Buffer = Buffer.allocUnsafe): Buffer {
  const type = TAG_TYPE[packet.kind];
  if (type === undefined) throw new FlvTagHeaderError(`cannot mux a tag of kind ${String(packet.kind)}`, at);
  const body = packet.body;
  const size = body.length;
  if (size > FLV_MAX_BODY_SIZE) throw new FlvTagTooLargeError(size, FLV_MAX_BODY_SIZE, at);
  const ts = flvTimestamp(packet.dts);
  const out = allocate(headroom + FLV_TAG_HEADER_SIZE + size + 4);
  const h = headroom;
  out[h] = type;
  out[h + 1] = size >>> 16;
  out[h + 2] = (size >>> 8) & 0xff;
  out[h + 3] = size & 0xff;
  // The low 24 bits come first and the high 8 bits last (TimestampExtended).
  out[h + 4] = (ts >>> 16) & 0xff;
  out[h + 5] = (ts >>> 8) & 0xff;
  out[h + 6] = ts & 0xff;
  out[h + 7] = (ts >>> 24) & 0xff;
  out[h + 8] = 0;
  out[h + 9] = 0;
  out[h + 10] = 0;
  body.copy(out, h + FLV_TAG_HEADER_SIZE);
  out.writeUInt32BE(FLV_TAG_HEADER_SIZE + size, h + FLV_TAG_HEADER_SIZE + size);
  return out;
}
