/**
 * Incremental FLV demuxer: bytes in, MediaPacket[] out, whatever the chunking.
 *
 * Zero-copy: a tag body that lies inside one pushed chunk is emitted as a `subarray` view of that
 * chunk, so callers must not reuse or mutate a chunk after pushing it (Node socket and file streams
 * hand out fresh buffers, which is the intended use). A body split across chunks is assembled once
 * into a buffer of its exact size. Retained bytes are bounded by maxTagSize plus a tag header.
 *
 * Errors are fatal: once push() or end() throws, the demuxer is dead and every later call throws the
 * same error. Resynchronising on a damaged stream would hand garbage downstream as media. Packets
 * already parsed from the chunk whose parsing threw are dropped with it.
 */
import {
  FlvPreviousTagSizeError,
  FlvSignatureError,
  FlvTagHeaderError,
  FlvTagTooLargeError,
  FlvTruncatedError,
  FlvUnsupportedError,
} from '../errors.js';
import type { MediaPacket, TrackKind } from '../media/packet.js';
import { TAG_TYPE } from '../media/packet.js';
import { decodeScriptData } from './amf0.js';
import { parseAudioTagBody, parseVideoTagBody } from './tag-body.js';

export interface FlvHeader {
  version: number;
  hasAudio: boolean;
  hasVideo: boolean;
  dataOffset: number;
}

export interface FlvWarning {
  code: string;
  message: string;
  offset: number;
}

export interface FlvDemuxerOptions {
  /** Largest accepted tag body in bytes. Default: 0xFFFFFF, the format's own 24-bit limit. */
  maxTagSize?: number;
  /** What a PreviousTagSize that disagrees with the tag before it does. Default 'warn'. */
  previousTagSize?: 'strict' | 'warn';
  onWarning?: (w: FlvWarning) => void;
  /** false: the stream starts directly at a tag header (no FLV header, no PreviousTagSize0). */
  expectHeader?: boolean;
}

export const FLV_MAX_TAG_SIZE = 0xffffff;
/** DataOffset values above this are treated as garbage rather than a header with a big extension. */
export const FLV_MAX_DATA_OFFSET = 0x10000;

const FLV_HEADER_SIZE = 9;
const TAG_HEADER_SIZE = 11;
const PREVIOUS_TAG_SIZE_SIZE = 4;

const S_HEADER = 0;
const S_HEADER_SKIP = 1;
const S_PREVIOUS_TAG_SIZE = 2;
const S_TAG_HEADER = 3;
const S_BODY = 4;
type State = typeof S_HEADER | typeof S_HEADER_SKIP | typeof S_PREVIOUS_TAG_SIZE | typeof S_TAG_HEADER | typeof S_BODY;

const KIND_BY_TYPE: Record<number, TrackKind> = {
  [TAG_TYPE.audio]: 'audio',
  [TAG_TYPE.video]: 'video',
  [TAG_TYPE.script]: 'script',
};

export class FlvDemuxer {
  private parsedHeader: FlvHeader | undefined;
  private consumed = 0;

  private readonly maxTagSize: number;
  private readonly strictPreviousTagSize: boolean;
  private readonly onWarning: ((w: FlvWarning) => void) | undefined;

  private state: State;
  private error: unknown;
  /** Fixed-size units (FLV header, tag header, PreviousTagSize) split across chunks gather here. */
  private readonly scratch = Buffer.alloc(16);
  private scratchLength = 0;
  private skipRemaining = 0;
  /** What the next PreviousTagSize should say: 0 after the header, 11 + body size after a tag. */
  private expectedPreviousTagSize = 0;

  private tagOffset = 0;
  private tagType = 0;
  private tagSize = 0;
  private tagTimestamp = 0;
  /** Body assembly buffer, only for a body split across chunks. */
  private body: Buffer | undefined;
  private bodyLength = 0;

  constructor(options: FlvDemuxerOptions = {}) {
    const max = options.maxTagSize ?? FLV_MAX_TAG_SIZE;
    if (!Number.isInteger(max) || max < 0 || max > FLV_MAX_TAG_SIZE) {
      throw new RangeError(`maxTagSize must be an integer in 0..${FLV_MAX_TAG_SIZE}, got ${max}`);
    }
    this.maxTagSize = max;
    this.strictPreviousTagSize = options.previousTagSize === 'strict';
    this.onWarning = options.onWarning;
    this.state = options.expectHeader === false ? S_TAG_HEADER : S_HEADER;
  }

  /** The FLV header once parsed; stays undefined with `expectHeader: false`. */
  get header(): FlvHeader | undefined {
    return this.parsedHeader;
  }

  /** Input bytes fully parsed (header, tags, PreviousTagSizes); `bytesConsumed + bufferedBytes` = bytes pushed. */
  get bytesConsumed(): number {
    return this.consumed;
  }

  /** Input bytes held while waiting for the rest of a header, PreviousTagSize or tag body. */
  get bufferedBytes(): number {
    return this.scratchLength + this.bodyLength;
  }

  push(chunk: Buffer): MediaPacket[] {
    if (this.error !== undefined) throw this.error;
    const out: MediaPacket[] = [];
    try {
      this.parse(chunk, out);
    } catch (e) {
      this.error = e;
      throw e;
    }
    return out;
  }

  /** Declare the end of input: throws FlvTruncatedError if it stopped inside a header or tag. */
  end(): void {
    if (this.error !== undefined) throw this.error;
    const at = this.consumed;
    let problem: string | undefined;
    switch (this.state) {
      case S_HEADER:
        problem = `stream ended inside the FLV header: expected ${FLV_HEADER_SIZE} bytes, got ${this.scratchLength}`;
        break;
      case S_HEADER_SKIP:
        problem = `stream ended inside the FLV header: ${this.skipRemaining} bytes of its extension missing`;
        break;
      case S_PREVIOUS_TAG_SIZE:
        // A stream may stop right after a tag, without the trailing PreviousTagSize; not after the header.
        if (this.scratchLength > 0 || (this.parsedHeader !== undefined && this.consumed === this.parsedHeader.dataOffset)) {
          problem = `stream ended inside a PreviousTagSize: expected ${PREVIOUS_TAG_SIZE_SIZE} bytes, got ${this.scratchLength}`;
        }
        break;
      case S_TAG_HEADER:
        if (this.scratchLength > 0) problem = `stream ended inside a tag header: expected ${TAG_HEADER_SIZE} bytes, got ${this.scratchLength}`;
        break;
      case S_BODY:
        problem = `stream ended inside a tag body: expected ${this.tagSize} bytes, got ${this.bodyLength}`;
        break;
    }
    if (problem !== undefined) {
      this.error = new FlvTruncatedError(problem, at);
      throw this.error;
    }
  }

  private parse(chunk: Buffer, out: MediaPacket[]): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.state === S_BODY) {
        i = this.takeBody(chunk, i, out);
        continue;
      }
      if (this.state === S_HEADER_SKIP) {
        const k = Math.min(this.skipRemaining, n - i);
        i += k;
        this.skipRemaining -= k;
        this.consumed += k;
        if (this.skipRemaining === 0) this.state = S_PREVIOUS_TAG_SIZE;
        continue;
      }
      const need =
        this.state === S_HEADER ? FLV_HEADER_SIZE : this.state === S_TAG_HEADER ? TAG_HEADER_SIZE : PREVIOUS_TAG_SIZE_SIZE;
      let unit: Buffer;
      if (this.scratchLength === 0 && n - i >= need) {
        unit = chunk.subarray(i, i + need);
        i += need;
      } else {
        const k = Math.min(need - this.scratchLength, n - i);
        chunk.copy(this.scratch, this.scratchLength, i, i + k);
        this.scratchLength += k;
        i += k;
        if (this.scratchLength < need) continue;
        unit = this.scratch.subarray(0, need);
        this.scratchLength = 0;
      }
      if (this.state === S_HEADER) this.onHeader(unit);
      else if (this.state === S_TAG_HEADER) this.onTagHeader(unit);
      else this.onPreviousTagSize(unit);
    }
  }

  private onHeader(h: Buffer): void {
    const at = this.consumed;
    if (h[0] !== 0x46 || h[1] !== 0x4c || h[2] !== 0x56) {
      throw new FlvSignatureError(`not an FLV stream: expected signature "FLV", got ${JSON.stringify(h.toString('latin1', 0, 3))}`, at);
    }
    const version = h[3]!;
    if (version !== 1) throw new FlvSignatureError(`unsupported FLV version ${version}, expected 1`, at + 3);
    const flags = h[4]!;
    const dataOffset = h.readUInt32BE(5);
    if (dataOffset < FLV_HEADER_SIZE || dataOffset > FLV_MAX_DATA_OFFSET) {
      throw new FlvSignatureError(`FLV header DataOffset ${dataOffset} out of range, expected ${FLV_HEADER_SIZE}..${FLV_MAX_DATA_OFFSET}`, at + 5);
    }
    this.parsedHeader = { version, hasAudio: (flags & 0x04) !== 0, hasVideo: (flags & 0x01) !== 0, dataOffset };
    this.consumed += FLV_HEADER_SIZE;
    this.expectedPreviousTagSize = 0;
    this.skipRemaining = dataOffset - FLV_HEADER_SIZE;
    this.state = this.skipRemaining > 0 ? S_HEADER_SKIP : S_PREVIOUS_TAG_SIZE;
  }

  private onPreviousTagSize(p: Buffer): void {
    const at = this.consumed;
    const value = p.readUInt32BE(0);
    this.consumed += PREVIOUS_TAG_SIZE_SIZE;
    this.state = S_TAG_HEADER;
    if (value === this.expectedPreviousTagSize) return;
    const message = `PreviousTagSize is ${value}, expected ${this.expectedPreviousTagSize}`;
    if (this.strictPreviousTagSize) throw new FlvPreviousTagSizeError(message, at);
    this.onWarning?.({ code: 'WSFLV_ERR_FLV_PREVIOUS_TAG_SIZE', message, offset: at });
  }

  private onTagHeader(h: Buffer): void {
    const at = this.consumed;
    const b0 = h[0]!;
    if (b0 & 0x20) {
      throw new FlvUnsupportedError(`encrypted tag (Filter bit set in tag type byte 0x${b0.toString(16)}): FLV encryption is not supported`, at);
    }
    const type = b0 & 0x1f;
    if ((b0 & 0xc0) !== 0 || KIND_BY_TYPE[type] === undefined) {
      throw new FlvTagHeaderError(`unknown tag type byte 0x${b0.toString(16).padStart(2, '0')}, expected 8 (audio), 9 (video) or 18 (script)`, at);
    }
    const size = h.readUIntBE(1, 3);
    // The extension byte is the high byte of a 32-bit timestamp. Read as unsigned: live streams that
    // run past 2^31 ms (~24.8 days) keep increasing instead of going negative.
    const timestamp = h[7]! * 0x1000000 + h.readUIntBE(4, 3);
    const streamId = h.readUIntBE(8, 3);
    if (size > this.maxTagSize) throw new FlvTagTooLargeError(size, this.maxTagSize, at + 1);
    if (streamId !== 0) {
      this.onWarning?.({ code: 'WSFLV_ERR_FLV_TAG_HEADER', message: `tag StreamID is ${streamId}, expected 0`, offset: at + 8 });
    }
    this.consumed += TAG_HEADER_SIZE;
    this.tagOffset = at;
    this.tagType = type;
    this.tagSize = size;
    this.tagTimestamp = timestamp;
    this.expectedPreviousTagSize = TAG_HEADER_SIZE + size;
    // An empty tag carries nothing to emit (RTMP's empty audio message means "silence").
    this.state = size === 0 ? S_PREVIOUS_TAG_SIZE : S_BODY;
  }

  private takeBody(chunk: Buffer, i: number, out: MediaPacket[]): number {
    const size = this.tagSize;
    const available = chunk.length - i;
    if (this.body === undefined) {
      if (available >= size) {
        this.emit(chunk.subarray(i, i + size), out);
        return i + size;
      }
      this.body = Buffer.allocUnsafe(size);
      this.bodyLength = 0;
    }
    const k = Math.min(size - this.bodyLength, available);
    chunk.copy(this.body, this.bodyLength, i, i + k);
    this.bodyLength += k;
    if (this.bodyLength === size) {
      const body = this.body;
      this.body = undefined;
      this.bodyLength = 0;
      this.emit(body, out);
    }
    return i + k;
  }

  private emit(body: Buffer, out: MediaPacket[]): void {
    const bodyOffset = this.tagOffset + TAG_HEADER_SIZE;
    const kind = KIND_BY_TYPE[this.tagType]!;
    const dts = this.tagTimestamp;
    let packet: MediaPacket;
    if (kind === 'script') {
      packet = {
        kind, dts, cts: 0, pts: dts, keyframe: true, config: false, endOfSequence: false,
        codec: 'amf0', body, dataOffset: 0, offset: this.tagOffset, script: decodeScriptData(body, bodyOffset),
      };
    } else {
      const info = kind === 'video' ? parseVideoTagBody(body, bodyOffset) : parseAudioTagBody(body, bodyOffset);
      packet = {
        kind, dts, cts: info.cts, pts: dts + info.cts, keyframe: info.keyframe, config: info.config,
        endOfSequence: info.endOfSequence, codec: info.codec, body, dataOffset: info.dataOffset, offset: this.tagOffset,
      };
      if (info.trackId !== undefined) packet.trackId = info.trackId;
    }
    this.consumed += body.length;
    this.state = S_PREVIOUS_TAG_SIZE;
    out.push(packet);
  }
}
