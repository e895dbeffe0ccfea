/**
 * The player side of the load generator: reads a WebSocket byte stream from a server (unmasked
 * frames) whose binary payloads, concatenated, are an FLV stream, and reports each tag's type,
 * timestamp and first two body bytes, without copying bodies. Tags and frames may split anywhere:
 * a frame may hold several tags or part of one, and a tag header may straddle two frames.
 *
 * push() keeps no reference to the chunk it is given, so callers may reuse the buffer.
 *
 * It is deliberately minimal (no extensions, no text messages) and cheap: a thousand of these run in
 * one process next to the server under test, so their CPU must stay well below the server's.
 */

export const FLV_AUDIO = 8;
export const FLV_VIDEO = 9;
export const FLV_SCRIPT = 18;

export interface WsFlvHandlers {
  /** One whole tag header seen (body bytes b0 and b1: -1 when the body is shorter). */
  tag(type: number, dts: number, size: number, b0: number, b1: number): void;
  /** A ping from the server: answer with a pong carrying the same payload. */
  ping(payload: Buffer): void;
  /** A close frame from the server (code 1005 when it carried none). */
  close(code: number, reason: string): void;
  /** The stream broke the rules this reader relies on. */
  error(message: string): void;
}

// WebSocket frame states.
const W_HEAD = 0;
const W_PAYLOAD = 1;
const W_CONTROL = 2;

// FLV states (inside the concatenated binary payloads).
const F_FILE_HEADER = 0;
const F_TAG_HEADER = 1;
const F_SKIP = 2;

export class WsFlvReader {
  #w = W_HEAD;
  readonly #head = Buffer.alloc(14);
  #headLen = 0;
  #payloadLeft = 0;
  #opcode = 0;
  #control: Buffer[] = [];

  #f = F_FILE_HEADER;
  /** FLV file header (13 bytes) or tag header plus two body bytes (13 bytes). */
  readonly #scratch = Buffer.alloc(13);
  #scratchLen = 0;
  #need = 13;
  #skipLeft = 0;
  #dead = false;

  constructor(private readonly on: WsFlvHandlers) {}

  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n && !this.#dead) {
      if (this.#w === W_HEAD) {
        this.#head[this.#headLen++] = chunk[i++]!;
        const need = this.#headNeed();
        if (need < 0 || this.#headLen < need) continue;
        this.#startFrame();
        continue;
      }
      const take = Math.min(this.#payloadLeft, n - i);
      if (this.#w === W_PAYLOAD) this.#flv(chunk, i, i + take);
      // Copied: callers may reuse `chunk` once push() returns.
      else this.#control.push(Buffer.from(chunk.subarray(i, i + take)));
      i += take;
      this.#payloadLeft -= take;
      if (this.#payloadLeft === 0) this.#endFrame();
    }
  }

  /** Header length once the first two bytes (and the extended length) say it; -1 while unknown. */
  #headNeed(): number {
    if (this.#headLen < 2) return -1;
    const len7 = this.#head[1]! & 0x7f;
    const masked = (this.#head[1]! & 0x80) !== 0;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
  }

  #startFrame(): void {
    const h = this.#head;
    if (h[1]! & 0x80) return this.#fail('server frame is masked');
    this.#opcode = h[0]! & 0x0f;
    const len7 = h[1]! & 0x7f;
    this.#payloadLeft = len7 === 126 ? h.readUInt16BE(2) : len7 === 127 ? Number(h.readBigUInt64BE(2)) : len7;
    this.#headLen = 0;
    if (this.#opcode === 0x0 || this.#opcode === 0x2) this.#w = W_PAYLOAD;
    else if (this.#opcode >= 0x8) this.#w = W_CONTROL;
    else return this.#fail(`unexpected opcode ${this.#opcode}`);
    if (this.#payloadLeft === 0) this.#endFrame();
  }

  #endFrame(): void {
    if (this.#w === W_CONTROL) {
      const payload = Buffer.concat(this.#control);
      this.#control = [];
      if (this.#opcode === 0x9) this.on.ping(payload);
      else if (this.#opcode === 0x8) {
        this.#dead = true;
        this.on.close(payload.length >= 2 ? payload.readUInt16BE(0) : 1005, payload.subarray(2).toString('utf8'));
      }
    }
    this.#w = W_HEAD;
  }

  #flv(buf: Buffer, from: number, to: number): void {
    let i = from;
    while (i < to) {
      if (this.#f === F_SKIP) {
        const take = Math.min(this.#skipLeft, to - i);
        i += take;
        this.#skipLeft -= take;
        if (this.#skipLeft === 0) this.#expectTag();
        continue;
      }
      const take = Math.min(this.#need - this.#scratchLen, to - i);
      buf.copy(this.#scratch, this.#scratchLen, i, i + take);
      this.#scratchLen += take;
      i += take;
      if (this.#scratchLen < this.#need) continue;
      const s = this.#scratch;
      if (this.#f === F_FILE_HEADER) {
        if (s[0] !== 0x46 || s[1] !== 0x4c || s[2] !== 0x56) return this.#fail('not an FLV stream');
        this.#expectTag();
        continue;
      }
      // Tag header (11 bytes) plus up to two body bytes.
      const type = s[0]! & 0x1f;
      const size = (s[1]! << 16) | (s[2]! << 8) | s[3]!;
      if (this.#need === 11 && size > 0) {
        // First pass: now we know the size, ask for up to two body bytes.
        this.#need = 11 + Math.min(2, size);
        continue;
      }
      const dts = ((s[7]! << 24) >>> 0) + ((s[4]! << 16) | (s[5]! << 8) | s[6]!);
      const b0 = size >= 1 ? s[11]! : -1;
      const b1 = size >= 2 ? s[12]! : -1;
      this.on.tag(type, dts, size, b0, b1);
      this.#f = F_SKIP;
      this.#skipLeft = size - Math.min(2, size) + 4;
      this.#scratchLen = 0;
    }
  }

  #expectTag(): void {
    this.#f = F_TAG_HEADER;
    this.#need = 11;
    this.#scratchLen = 0;
  }

  #fail(message: string): void {
    this.#dead = true;
    this.on.error(message);
  }
}

/** Video tag: a keyframe (random access point), legacy or Enhanced RTMP. */
export function isVideoKeyframe(b0: number): boolean {
  return ((b0 >> 4) & 0x7) === 1;
}

/** Video tag: a decoder configuration (AVC/HEVC sequence header, or Enhanced RTMP SequenceStart). */
export function isVideoConfig(b0: number, b1: number): boolean {
  if (b0 & 0x80) return (b0 & 0x0f) === 0;
  const codec = b0 & 0x0f;
  return (codec === 7 || codec === 12) && b1 === 0;
}

/** Audio tag: an AAC AudioSpecificConfig. */
export function isAudioConfig(b0: number, b1: number): boolean {
  return b0 >> 4 === 10 && b1 === 0;
}

/** A masked client frame (pong, close): servers require clients to mask. */
export function maskedFrame(opcode: number, payload: Buffer): Buffer {
  if (payload.length > 125) throw new RangeError('control payloads are at most 125 bytes');
  const out = Buffer.allocUnsafe(6 + payload.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | payload.length;
  const mask = (Math.random() * 0x1_0000_0000) >>> 0;
  out.writeUInt32BE(mask, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i]! ^ out[2 + (i & 3)]!;
  return out;
}
