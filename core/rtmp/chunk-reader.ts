import { RtmpError } from '../errors.js';
import { MSG, type RtmpMessage } from './messages.js';

export interface ChunkReaderLimits {
  /** Largest message a peer may send (audio, video, commands); bigger ones close it. */
  maxMessageBytes: number;
  /** Largest chunk size a peer may set (the spec allows up to 2^31 - 1; memory is ours). */
  maxChunkSize: number;
  /** Chunk streams one peer may use at once: each keeps header state. */
  maxChunkStreams: number;
}

export const DEFAULT_CHUNK_LIMITS: Readonly<ChunkReaderLimits> = { maxMessageBytes: 16 * 1024 * 1024, maxChunkSize: 16 * 1024 * 1024, maxChunkStreams: 64 };

/** Per chunk stream: the last header, and the message being reassembled. */
interface ChunkStream {
  timestamp: number;
  /** The delta a type-3 chunk starting a new message adds (type 0: its timestamp, as peers do). */
  delta: number;
  length: number;
  type: number;
  streamId: number;
  /** Whether the last header used the extended timestamp field (then type-3 chunks carry it too). */
  extended: boolean;
  /** The message in progress, or undefined between messages. */
  parts: Buffer[] | undefined;
  received: number;
  seen: boolean;
}

/**
 * The RTMP chunk stream (§5.3) as an incremental parser: `push` takes bytes in any split and
 * returns the whole messages they completed. All four header types, 1- to 3-byte basic headers,
 * extended timestamps (also on type-3 chunks), per-chunk-stream state, Set Chunk Size and Abort
 * are handled here because they change how the next bytes parse; other control messages are
 * returned like any message. Everything a peer can make us hold is bounded; any violation is an
 * RtmpError and the reader must not be used again.
 */
export class ChunkReader {
  readonly limits: ChunkReaderLimits;
  #chunkSize = 128;
  #streams = new Map<number, ChunkStream>();
  #pending: Buffer | undefined;
  /** Total bytes taken, for acknowledgements. */
  bytesIn = 0;

  constructor(limits: Partial<ChunkReaderLimits> = {}) {
    this.limits = { ...DEFAULT_CHUNK_LIMITS, ...limits };
  }

  get chunkSize(): number {
    return this.#chunkSize;
  }

  push(chunk: Buffer): RtmpMessage[] {
    this.bytesIn += chunk.length;
    let buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = undefined;
    const out: RtmpMessage[] = [];
    let at = 0;
    for (;;) {
      const used = this.#chunk(buf, at, out);
      if (used === 0) break;
      at += used;
    }
    if (at < buf.length) this.#pending = Buffer.from(buf.subarray(at));
    // A peer trickling a header byte by byte cannot make us hold more than one header's worth.
    if (this.#pending && this.#pending.length > 18 + this.#chunkSize) {
      throw new RtmpError('WSFLV_ERR_RTMP_CHUNK', 'RTMP: unparsed bytes exceed one chunk');
    }
    buf = Buffer.alloc(0);
    return out;
  }

  /** Parses one chunk at `at`; returns the bytes it used, 0 when the chunk is not complete yet. */
  #chunk(buf: Buffer, at: number, out: RtmpMessage[]): number {
    const start = at;
    if (buf.length - at < 1) return 0;
    const first = buf[at++]!;
    const fmt = first >> 6;
    let csid = first & 0x3f;
    if (csid === 0) {
      if (buf.length - at < 1) return 0;
      csid = 64 + buf[at++]!;
    } else if (csid === 1) {
      if (buf.length - at < 2) return 0;
      csid = 64 + buf[at]! + buf[at + 1]! * 256;
      at += 2;
    }
    const headerSize = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (buf.length - at < headerSize) return 0;
    let stream = this.#streams.get(csid);
    if (!stream) {
      if (fmt !== 0) throw new RtmpError('WSFLV_ERR_RTMP_CHUNK', `RTMP: chunk stream ${csid} starts with a type ${fmt} header (its first chunk must be type 0)`);
      if (this.#streams.size >= this.limits.maxChunkStreams) {
        throw new RtmpError('WSFLV_ERR_RTMP_CHUNK', `RTMP: more than ${this.limits.maxChunkStreams} chunk streams`);
      }
      stream = { timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, extended: false, parts: undefined, received: 0, seen: false };
    }
    let field = 0;
    let length = stream.length;
    let type = stream.type;
    let streamId = stream.streamId;
    if (fmt <= 2) field = buf.readUIntBE(at, 3);
    if (fmt <= 1) {
      length = buf.readUIntBE(at + 3, 3);
      type = buf[at + 6]!;
    }
    if (fmt === 0) streamId = buf.readUInt32LE(at + 7);
    at += headerSize;
    const extended = fmt <= 2 ? field === 0xffffff : stream.extended;
    if (extended) {
      if (buf.length - at < 4) return 0;
      const value = buf.readUInt32BE(at);
      at += 4;
      if (fmt <= 2) field = value;
      // Type 3 repeats the extended value of the header it continues; only a new message uses it.
      else if (stream.parts === undefined) field = value;
    }
    const continuing = stream.parts !== undefined;
    if (continuing && fmt !== 3) {
      throw new RtmpError('WSFLV_ERR_RTMP_CHUNK', `RTMP: a type ${fmt} header on chunk stream ${csid} interrupts a message (${stream.received} of ${stream.length} bytes)`);
    }
    if (!continuing) {
      if (length > this.limits.maxMessageBytes) {
        throw new RtmpError('WSFLV_ERR_RTMP_MESSAGE_TOO_LARGE', `RTMP: a message of ${length} bytes exceeds the limit of ${this.limits.maxMessageBytes}`);
      }
    }
    const remaining = (continuing ? stream.length - stream.received : length);
    const take = Math.min(remaining, this.#chunkSize);
    if (buf.length - at < take) return 0;

    // The chunk is complete: commit its header state.
    if (!continuing) {
      if (fmt === 0) {
        stream.timestamp = field;
        stream.delta = field;
      } else if (fmt === 1 || fmt === 2) {
        stream.delta = field;
        stream.timestamp = (stream.timestamp + field) >>> 0;
      } else if (stream.seen) {
        stream.timestamp = (stream.timestamp + (extended ? field : stream.delta)) >>> 0;
      }
      stream.length = length;
      stream.type = type;
      stream.streamId = streamId;
      stream.extended = extended;
      stream.parts = [];
      stream.received = 0;
      stream.seen = true;
      this.#streams.set(csid, stream);
    }
    const body = buf.subarray(at, at + take);
    at += take;
    stream.parts!.push(body);
    stream.received += take;
    if (stream.received >= stream.length) {
      const parts = stream.parts!;
      const payload = parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts);
      stream.parts = undefined;
      stream.received = 0;
      this.#message({ csid, type: stream.type, streamId: stream.streamId, timestamp: stream.timestamp, payload }, out);
    }
    return at - start;
  }

  #message(message: RtmpMessage, out: RtmpMessage[]): void {
    if (message.type === MSG.setChunkSize) {
      if (message.payload.length < 4) throw new RtmpError('WSFLV_ERR_RTMP_CHUNK', 'RTMP: Set Chunk Size without its 4 bytes');
      const size = message.payload.readUInt32BE(0) & 0x7fffffff;
      if (size < 1 || size > this.limits.maxChunkSize) {
        throw new RtmpError('WSFLV_ERR_RTMP_CHUNK', `RTMP: chunk size ${size} is outside 1..${this.limits.maxChunkSize}`);
      }
      this.#chunkSize = size;
      return;
    }
    if (message.type === MSG.abort) {
      if (message.payload.length < 4) throw new RtmpError('WSFLV_ERR_RTMP_CHUNK', 'RTMP: Abort without its 4 bytes');
      const target = this.#streams.get(message.payload.readUInt32BE(0));
      if (target) {
        target.parts = undefined;
        target.received = 0;
      }
      return;
    }
    out.push(message);
  }
}
