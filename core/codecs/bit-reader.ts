import { CodecConfigError } from '../errors.js';

/**
 * MSB-first bit reader for codec headers (SPS, sequence header OBUs, AudioSpecificConfig).
 *
 * Every way of running off the end raises CodecConfigError naming `what`, so a parser built on it
 * turns truncated or garbage input into the project's typed error instead of a RangeError or a
 * silently wrong value.
 */
export class BitReader {
  private readonly buf: Uint8Array;
  private pos = 0;
  /** Names the structure being read, for error messages ("AVC SPS", "AudioSpecificConfig"...). */
  readonly what: string;

  constructor(buf: Uint8Array, what = 'bitstream') {
    this.buf = buf;
    this.what = what;
  }

  /** Bits consumed so far. */
  get bitPosition(): number {
    return this.pos;
  }

  get bitsLeft(): number {
    return this.buf.length * 8 - this.pos;
  }

  /**
   * Reads `n` bits (0..32) as an unsigned number. Built by multiplication rather than `<<` so that
   * 32-bit fields do not come back negative.
   */
  u(n: number): number {
    if (!Number.isInteger(n) || n < 0 || n > 32) {
      throw new CodecConfigError(`${this.what}: cannot read ${n} bits at once`);
    }
    this.need(n, n === 1 ? 'a bit' : `${n} bits`);
    let value = 0;
    let pos = this.pos;
    let left = n;
    while (left > 0) {
      const byte = this.buf[pos >> 3]!;
      const used = pos & 7;
      const take = Math.min(8 - used, left);
      const bits = (byte >> (8 - used - take)) & ((1 << take) - 1);
      value = value * (1 << take) + bits;
      pos += take;
      left -= take;
    }
    this.pos = pos;
    return value;
  }

  flag(): boolean {
    return this.u(1) === 1;
  }

  skip(n: number): void {
    this.need(n, `${n} bits to skip`);
    this.pos += n;
  }

  /** Unsigned Exp-Golomb, ue(v) in H.264/H.265. */
  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      zeros++;
      // 32 leading zeros would encode a value >= 2^32 - 1, beyond anything a real header carries.
      if (zeros > 31) throw new CodecConfigError(`${this.what}: Exp-Golomb code longer than 32 bits`);
    }
    if (zeros === 0) return 0;
    return 2 ** zeros - 1 + this.u(zeros);
  }

  /** Signed Exp-Golomb, se(v): 1, -1, 2, -2... */
  se(): number {
    const k = this.ue();
    // `0 - x` rather than `-x`, so that codeNum 0 gives 0 and not -0.
    return k % 2 === 1 ? (k + 1) / 2 : 0 - k / 2;
  }

  /** Skips to the next byte boundary (no-op when already aligned). */
  byteAlign(): void {
    this.pos = (this.pos + 7) & ~7;
    if (this.pos > this.buf.length * 8) this.pos = this.buf.length * 8;
  }

  private need(n: number, wanted: string): void {
    if (n > this.bitsLeft) {
      throw new CodecConfigError(
        `${this.what}: truncated, needed ${wanted} at bit ${this.pos} but only ${this.bitsLeft} remain`,
      );
    }
  }
}

/**
 * Strips H.264/H.265 emulation prevention bytes: inside a NAL unit every `00 00 03` stands for
 * `00 00`, inserted by the encoder so the payload never imitates a start code. Parsing the SPS
 * without removing them shifts every field after the first occurrence.
 */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  let first = -1;
  for (let i = 2; i < nal.length; i++) {
    if (nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) {
      first = i;
      break;
    }
  }
  // The common case has no escapes at all, so avoid copying.
  if (first < 0) return nal;
  const out = new Uint8Array(nal.length);
  out.set(nal.subarray(0, first), 0);
  let n = first;
  let zeros = 0;
  for (let i = first + 1; i < nal.length; i++) {
    const b = nal[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}
