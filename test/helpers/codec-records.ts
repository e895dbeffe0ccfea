/**
 * Pulls decoder configuration records out of the fixture files without going through the code under
 * test: small hand-written walkers for FLV tags, MP4 boxes and Ogg pages. Expected values come from
 * test/fixtures/codecs/probe.json, written by ffprobe (test/fixtures/codecs/make.sh).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const CODEC_FIXTURES = `${FIXTURES}codecs/`;

export interface ProbeStream {
  codec_type: 'video' | 'audio';
  codec_name: string;
  profile?: string;
  level?: number;
  width?: number;
  height?: number;
  pix_fmt?: string;
  sample_rate?: string;
  channels?: number;
}

const probes = JSON.parse(readFileSync(`${CODEC_FIXTURES}probe.json`, 'utf8')) as Record<string, ProbeStream[]>;

export function probe(file: string, type: 'video' | 'audio'): ProbeStream {
  const s = probes[file]?.find((x) => x.codec_type === type);
  if (!s) throw new Error(`probe.json has no ${type} stream for ${file}`);
  return s;
}

export function probedFiles(prefix: string): string[] {
  return Object.keys(probes).filter((f) => f.startsWith(prefix));
}

export interface FlvTagRef {
  type: number;
  dts: number;
  body: Buffer;
}

/** FLV tags by hand: header DataOffset, then (PreviousTagSize, tag)*. */
export function flvTags(file: string): FlvTagRef[] {
  const b = readFileSync(`${FIXTURES}${file}`);
  const tags: FlvTagRef[] = [];
  let p = b.readUInt32BE(5) + 4;
  while (p + 11 <= b.length) {
    const size = b.readUIntBE(p + 1, 3);
    const dts = b.readUIntBE(p + 4, 3) + b[p + 7]! * 0x1000000;
    tags.push({ type: b[p]!, dts, body: b.subarray(p + 11, p + 11 + size) });
    p += 11 + size + 4;
  }
  return tags;
}

/** The avcC of the first AVC sequence header and the AudioSpecificConfig of the first AAC one. */
export function flvConfigRecords(file: string): { avcC?: Buffer; asc?: Buffer; firstAudio?: Buffer } {
  const out: { avcC?: Buffer; asc?: Buffer; firstAudio?: Buffer } = {};
  for (const t of flvTags(file)) {
    if (t.type === 9 && !out.avcC && (t.body[0]! & 0x0f) === 7 && t.body[1] === 0) out.avcC = t.body.subarray(5);
    if (t.type === 8) {
      out.firstAudio ??= t.body;
      if (!out.asc && t.body[0]! >> 4 === 10 && t.body[1] === 0) out.asc = t.body.subarray(2);
    }
  }
  return out;
}

const MP4_CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl']);

/**
 * The payload of the first `fourcc` box inside an MP4 sample entry (avcC, hvcC, av1C), or for
 * 'esds' the DecoderSpecificInfo inside it (the AudioSpecificConfig).
 */
export function mp4Record(file: string, fourcc: 'avcC' | 'hvcC' | 'av1C' | 'esds'): Buffer {
  const b = readFileSync(`${CODEC_FIXTURES}${file}`);
  const found = findBox(b, 0, b.length, fourcc);
  if (!found) throw new Error(`${file}: no ${fourcc} box`);
  return fourcc === 'esds' ? decoderSpecificInfo(found.subarray(4)) : found;
}

function findBox(b: Buffer, start: number, end: number, fourcc: string): Buffer | undefined {
  let p = start;
  while (p + 8 <= end) {
    const size = b.readUInt32BE(p);
    const type = b.toString('latin1', p + 4, p + 8);
    if (size < 8 || p + size > end) return undefined;
    if (type === fourcc) return b.subarray(p + 8, p + size);
    let inner: number | undefined;
    if (MP4_CONTAINERS.has(type)) inner = p + 8;
    else if (type === 'stsd') inner = p + 16; // full box header + entry_count
    else if (['avc1', 'hvc1', 'hev1', 'av01'].includes(type)) inner = p + 8 + 78; // VisualSampleEntry
    else if (type === 'mp4a') inner = p + 8 + 28; // AudioSampleEntry v0
    if (inner !== undefined) {
      const hit = findBox(b, inner, p + size, fourcc);
      if (hit) return hit;
    }
    p += size;
  }
  return undefined;
}

/** ES_Descriptor → DecoderConfigDescriptor → DecoderSpecificInfo (ISO/IEC 14496-1 7.2.6). */
function decoderSpecificInfo(d: Buffer): Buffer {
  let p = 0;
  const readDescriptor = (): { tag: number; start: number; end: number } => {
    const tag = d[p++]!;
    let len = 0;
    for (let i = 0; i < 4; i++) {
      const c = d[p++]!;
      len = (len << 7) | (c & 0x7f);
      if (!(c & 0x80)) break;
    }
    return { tag, start: p, end: p + len };
  };
  const es = readDescriptor();
  if (es.tag !== 3) throw new Error('esds: no ES_Descriptor');
  const flags = d[p + 2]!;
  p += 3;
  if (flags & 0x80) p += 2;
  if (flags & 0x40) p += 1 + d[p]!;
  if (flags & 0x20) p += 2;
  const dc = readDescriptor();
  if (dc.tag !== 4) throw new Error('esds: no DecoderConfigDescriptor');
  p += 13;
  const dsi = readDescriptor();
  if (dsi.tag !== 5) throw new Error('esds: no DecoderSpecificInfo');
  return d.subarray(dsi.start, dsi.end);
}

/** The first packet of the first Ogg page (for Opus, the OpusHead). */
export function oggFirstPacket(file: string): Buffer {
  const b = readFileSync(`${CODEC_FIXTURES}${file}`);
  if (b.toString('latin1', 0, 4) !== 'OggS') throw new Error(`${file}: not Ogg`);
  const segments = b[26]!;
  let len = 0;
  for (let i = 0; i < segments; i++) {
    const lacing = b[27 + i]!;
    len += lacing;
    if (lacing < 255) break;
  }
  const start = 27 + segments;
  return b.subarray(start, start + len);
}

/** MSB-first bit writer with Exp-Golomb, for building headers the fixtures do not cover. */
export class BitWriter {
  private bits: number[] = [];

  u(n: number, value: number): this {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(value / 2 ** i) % 2);
    return this;
  }

  flag(v: boolean): this {
    return this.u(1, v ? 1 : 0);
  }

  ue(value: number): this {
    const x = value + 1;
    const len = Math.floor(Math.log2(x));
    this.u(len, 0);
    return this.u(len + 1, x);
  }

  se(value: number): this {
    return this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  get length(): number {
    return this.bits.length;
  }

  /** Pads with the RBSP stop bit and zeros to a whole byte. */
  rbsp(): Buffer {
    this.bits.push(1);
    return this.bytes();
  }

  bytes(): Buffer {
    const out = Buffer.alloc(Math.ceil(this.bits.length / 8));
    this.bits.forEach((bit, i) => {
      if (bit) out[i >> 3]! |= 0x80 >> (i & 7);
    });
    return out;
  }
}

/** Inserts emulation prevention bytes, as an encoder does, so that no 00 00 0x (x <= 3) remains. */
export function escapeRbsp(rbsp: Uint8Array): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}
