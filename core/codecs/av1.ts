import { CodecConfigError } from '../errors.js';
import { BitReader } from './bit-reader.js';

/** The picture size fields of an AV1 sequence header OBU (AV1 spec 5.5). */
export interface Av1SequenceHeader {
  seqProfile: number;
  stillPicture: boolean;
  reducedStillPictureHeader: boolean;
  /** seq_level_idx and seq_tier of the first operating point. */
  seqLevelIdx0: number;
  seqTier0: number;
  maxFrameWidth: number;
  maxFrameHeight: number;
}

/** AV1CodecConfigurationRecord ("av1C", AV1 ISOBMFF binding 2.3). */
export interface Av1CodecConfig {
  version: number;
  seqProfile: number;
  seqLevelIdx0: number;
  seqTier0: number;
  highBitdepth: boolean;
  twelveBit: boolean;
  bitDepth: number;
  monochrome: boolean;
  chromaSubsamplingX: boolean;
  chromaSubsamplingY: boolean;
  chromaSamplePosition: number;
  initialPresentationDelayMinusOne?: number;
  configObus: Buffer;
  /** From a sequence header OBU in configOBUs, when there is one. */
  sequenceHeader?: Av1SequenceHeader;
  profile: string;
  /** "4.0" for seq_level_idx 8; undefined for 31 (no level constraint). */
  level?: string;
  width?: number;
  height?: number;
  /** "av01.P.LLT.DD" (AV1 ISOBMFF binding, Codecs Parameter String). */
  codecString: string;
}

const RECORD = 'AV1CodecConfigurationRecord';
const OBU_SEQUENCE_HEADER = 1;

export function parseAv1CodecConfig(av1C: Uint8Array): Av1CodecConfig {
  const buf = Buffer.from(av1C.buffer, av1C.byteOffset, av1C.byteLength);
  if (buf.length < 4) throw new CodecConfigError(`${RECORD}: ${buf.length} bytes, shorter than the 4-byte header`);
  const marker = buf[0]! >> 7;
  const version = buf[0]! & 0x7f;
  if (marker !== 1) throw new CodecConfigError(`${RECORD}: marker bit is 0`);
  if (version !== 1) throw new CodecConfigError(`${RECORD}: version ${version}, expected 1`);
  const seqProfile = buf[1]! >> 5;
  const seqLevelIdx0 = buf[1]! & 0x1f;
  const seqTier0 = buf[2]! >> 7;
  const highBitdepth = (buf[2]! & 0x40) !== 0;
  const twelveBit = (buf[2]! & 0x20) !== 0;
  const monochrome = (buf[2]! & 0x10) !== 0;
  const chromaSubsamplingX = (buf[2]! & 0x08) !== 0;
  const chromaSubsamplingY = (buf[2]! & 0x04) !== 0;
  const chromaSamplePosition = buf[2]! & 3;
  const delayPresent = (buf[3]! & 0x10) !== 0;
  if (seqProfile > 2) throw new CodecConfigError(`${RECORD}: seq_profile ${seqProfile} is reserved`);
  const bitDepth = highBitdepth ? (seqProfile === 2 && twelveBit ? 12 : 10) : 8;
  const configObus = buf.subarray(4);
  const sequenceHeader = findSequenceHeader(configObus);
  const level = av1LevelName(seqLevelIdx0);
  return {
    version,
    seqProfile,
    seqLevelIdx0,
    seqTier0,
    highBitdepth,
    twelveBit,
    bitDepth,
    monochrome,
    chromaSubsamplingX,
    chromaSubsamplingY,
    chromaSamplePosition,
    ...(delayPresent ? { initialPresentationDelayMinusOne: buf[3]! & 0x0f } : {}),
    configObus,
    ...(sequenceHeader
      ? { sequenceHeader, width: sequenceHeader.maxFrameWidth, height: sequenceHeader.maxFrameHeight }
      : {}),
    profile: av1ProfileName(seqProfile),
    ...(level !== undefined ? { level } : {}),
    codecString: `av01.${seqProfile}.${String(seqLevelIdx0).padStart(2, '0')}${seqTier0 ? 'H' : 'M'}.${String(bitDepth).padStart(2, '0')}`,
  };
}

/** Walks the OBUs (each must carry obu_size, as av1C requires) and parses the first sequence header. */
function findSequenceHeader(obus: Buffer): Av1SequenceHeader | undefined {
  let p = 0;
  while (p < obus.length) {
    const header = obus[p]!;
    if (header & 0x80) throw new CodecConfigError(`${RECORD}: configOBUs: forbidden bit set in OBU header at byte ${p}`);
    const type = (header >> 3) & 0x0f;
    const hasExtension = (header & 0x04) !== 0;
    const hasSize = (header & 0x02) !== 0;
    if (!hasSize) throw new CodecConfigError(`${RECORD}: configOBUs: OBU at byte ${p} has no obu_size`);
    p += hasExtension ? 2 : 1;
    const [size, n] = readLeb128(obus, p);
    p += n;
    if (p + size > obus.length) {
      throw new CodecConfigError(`${RECORD}: configOBUs: OBU declares ${size} bytes but ${obus.length - p} remain`);
    }
    if (type === OBU_SEQUENCE_HEADER) return parseAv1SequenceHeader(obus.subarray(p, p + size));
    p += size;
  }
  return undefined;
}

function readLeb128(buf: Buffer, start: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    if (start + i >= buf.length) throw new CodecConfigError(`${RECORD}: configOBUs: truncated obu_size`);
    const b = buf[start + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return [value, i + 1];
  }
  throw new CodecConfigError(`${RECORD}: configOBUs: obu_size longer than 8 bytes`);
}

/** Parses a sequence_header_obu payload as far as max_frame_height_minus_1. */
export function parseAv1SequenceHeader(payload: Uint8Array): Av1SequenceHeader {
  const r = new BitReader(payload, 'AV1 sequence header');
  const seqProfile = r.u(3);
  const stillPicture = r.flag();
  const reducedStillPictureHeader = r.flag();
  let seqLevelIdx0 = 0;
  let seqTier0 = 0;
  if (reducedStillPictureHeader) {
    seqLevelIdx0 = r.u(5);
  } else {
    let decoderModelInfoPresent = false;
    let bufferDelayLength = 0;
    if (r.flag()) {
      // timing_info()
      r.skip(32); // num_units_in_display_tick
      r.skip(32); // time_scale
      if (r.flag()) uvlc(r); // equal_picture_interval → num_ticks_per_picture_minus_1
      decoderModelInfoPresent = r.flag();
      if (decoderModelInfoPresent) {
        bufferDelayLength = r.u(5) + 1;
        r.skip(32); // num_units_in_decoding_tick
        r.skip(5); // buffer_removal_time_length_minus_1
        r.skip(5); // frame_presentation_time_length_minus_1
      }
    }
    const initialDisplayDelayPresent = r.flag();
    const operatingPoints = r.u(5) + 1;
    for (let i = 0; i < operatingPoints; i++) {
      r.skip(12); // operating_point_idc
      const levelIdx = r.u(5);
      const tier = levelIdx > 7 ? r.u(1) : 0;
      if (i === 0) {
        seqLevelIdx0 = levelIdx;
        seqTier0 = tier;
      }
      if (decoderModelInfoPresent && r.flag()) {
        r.skip(bufferDelayLength); // decoder_buffer_delay
        r.skip(bufferDelayLength); // encoder_buffer_delay
        r.skip(1); // low_delay_mode_flag
      }
      if (initialDisplayDelayPresent && r.flag()) r.skip(4);
    }
  }
  const widthBits = r.u(4) + 1;
  const heightBits = r.u(4) + 1;
  const maxFrameWidth = r.u(widthBits) + 1;
  const maxFrameHeight = r.u(heightBits) + 1;
  return { seqProfile, stillPicture, reducedStillPictureHeader, seqLevelIdx0, seqTier0, maxFrameWidth, maxFrameHeight };
}

function uvlc(r: BitReader): number {
  let zeros = 0;
  while (!r.flag()) {
    zeros++;
    // The spec caps the value at 2^32 - 1 from 32 zeros on; the bits are still consumed.
    if (zeros >= 32) {
      while (!r.flag()) { /* consume the remaining leading zeros */ }
      return 2 ** 32 - 1;
    }
  }
  return zeros === 0 ? 0 : r.u(zeros) + 2 ** zeros - 1;
}

export function av1ProfileName(seqProfile: number): string {
  return ['Main', 'High', 'Professional'][seqProfile] ?? `Profile ${seqProfile}`;
}

/** seq_level_idx maps to level X.Y with X = 2 + (idx >> 2), Y = idx & 3; 31 means unconstrained. */
export function av1LevelName(seqLevelIdx: number): string | undefined {
  if (seqLevelIdx === 31) return undefined;
  return `${2 + (seqLevelIdx >> 2)}.${seqLevelIdx & 3}`;
}
