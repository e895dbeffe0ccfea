/**
 * The first bytes of FLV audio and video tag bodies: legacy FLV headers and Enhanced RTMP (v2)
 * ExAudioTagHeader / ExVideoTagHeader, including ModEx and single-track multitrack framing.
 *
 * Decisions:
 * - keyframe on config packets follows FrameType: a sequence header sent with FrameType 1 (as every
 *   common writer does) is `config: true, keyframe: true`; one sent as an inter frame is not a keyframe.
 * - Video command frames (FrameType 5) and Enhanced RTMP Metadata packets are neither config nor media:
 *   `keyframe: false, config: false`, `dataOffset` at the command byte / AMF payload.
 * - Multitrack: AvMultitrackType OneTrack is parsed and sets `trackId`; ManyTracks and
 *   ManyTracksManyCodecs pack several tracks in one tag, which a single MediaPacket cannot carry, so
 *   they are rejected with FlvUnsupportedError. Audio MultichannelConfig and video MPEG2TSSequenceStart
 *   carry something other than a codec configuration record or frame, so they are rejected too rather
 *   than passed on looking like one.
 * - Unknown ModEx types are skipped (their payload is size-prefixed, so the framing stays intact).
 */
import { FlvTagBodyError, FlvUnsupportedError } from '../errors.js';
import type { AudioCodec, Codec, VideoCodec } from '../media/packet.js';

export interface TagBodyInfo {
  codec: Codec;
  keyframe: boolean;
  config: boolean;
  endOfSequence: boolean;
  /** Composition time offset in ms (signed 24-bit), 0 where the packet has none. */
  cts: number;
  /** Where the codec payload starts inside the body. */
  dataOffset: number;
  /** Enhanced RTMP multitrack (OneTrack) track id. */
  trackId?: number;
  /** Enhanced RTMP ModEx TimestampOffsetNano, when present (0..0xFFFFFF ns, added to the ms timestamp). */
  timestampOffsetNano?: number;
}

const LEGACY_VIDEO: Record<number, VideoCodec> = {
  1: 'jpeg',
  2: 'h263',
  3: 'screen',
  4: 'vp6',
  5: 'vp6a',
  6: 'screen2',
  7: 'avc',
  // Not in Adobe's spec, but the id every HEVC-over-legacy-FLV writer uses.
  12: 'hevc',
};

const LEGACY_AUDIO: Record<number, AudioCodec> = {
  0: 'pcm',
  1: 'adpcm',
  2: 'mp3',
  3: 'pcm-le',
  4: 'nellymoser',
  5: 'nellymoser',
  6: 'nellymoser',
  7: 'g711a',
  8: 'g711u',
  10: 'aac',
  11: 'speex',
  14: 'mp3-8k',
  15: 'device',
};

const VIDEO_FOURCC: Record<string, VideoCodec> = {
  avc1: 'avc',
  hvc1: 'hevc',
  av01: 'av1',
  vp09: 'vp9',
  vp08: 'vp8',
};

const AUDIO_FOURCC: Record<string, AudioCodec> = {
  Opus: 'opus',
  fLaC: 'flac',
  mp4a: 'aac',
  'ac-3': 'ac3',
  'ec-3': 'eac3',
  '.mp3': 'mp3',
};

const VIDEO_PACKET_TYPE_NAMES = [
  'SequenceStart', 'CodedFrames', 'SequenceEnd', 'CodedFramesX', 'Metadata', 'MPEG2TSSequenceStart', 'Multitrack', 'ModEx',
];
const AUDIO_PACKET_TYPE_NAMES = [
  'SequenceStart', 'CodedFrames', 'SequenceEnd', 'reserved (3)', 'MultichannelConfig', 'Multitrack', 'reserved (6)', 'ModEx',
];
const MULTITRACK_TYPE_NAMES = ['OneTrack', 'ManyTracks', 'ManyTracksManyCodecs'];

const VIDEO_PT = { SequenceStart: 0, CodedFrames: 1, SequenceEnd: 2, CodedFramesX: 3, Metadata: 4, Mpeg2TsSequenceStart: 5, Multitrack: 6, ModEx: 7 } as const;
const AUDIO_PT = { SequenceStart: 0, CodedFrames: 1, SequenceEnd: 2, MultichannelConfig: 4, Multitrack: 5, ModEx: 7 } as const;
const MODEX_TIMESTAMP_OFFSET_NANO = 0;

/** Bounds-checked cursor over a tag body; errors carry the stream offset of the byte concerned. */
class Cursor {
  pos = 0;
  constructor(readonly body: Buffer, readonly base: number, readonly what: string) {}

  need(n: number, field: string): void {
    const left = this.body.length - this.pos;
    if (left < n) {
      throw new FlvTagBodyError(
        `${this.what} tag body too short: expected ${field} (${n} byte${n === 1 ? '' : 's'}) at body byte ${this.pos}, ${left} left`,
        this.base + this.pos,
      );
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.body[this.pos++]!;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.body.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(field: string): number {
    this.need(3, field);
    const v = this.body.readUIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  si24(field: string): number {
    this.need(3, field);
    const v = this.body.readIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  fourcc(field: string): string {
    this.need(4, field);
    const s = this.body.toString('latin1', this.pos, this.pos + 4);
    this.pos += 4;
    return s;
  }

  unsupported(message: string, at = this.pos): never {
    throw new FlvUnsupportedError(`${this.what} tag: ${message}`, this.base + at);
  }

  malformed(message: string, at = this.pos): never {
    throw new FlvTagBodyError(`${this.what} tag: ${message}`, this.base + at);
  }
}

/**
 * Walk a ModEx chain starting right after the packet-type nibble that said ModEx. Returns the real
 * packet type and the TimestampOffsetNano value if one was present.
 */
function readModEx(c: Cursor, modExType: number): { packetType: number; nano?: number } {
  let packetType = modExType;
  let nano: number | undefined;
  while (packetType === modExType) {
    const sizeAt = c.pos;
    let size = c.u8('ModEx data size') + 1;
    if (size === 256) size = c.u16('ModEx 16-bit data size') + 1;
    c.need(size, `${size} bytes of ModEx data`);
    const dataAt = c.pos;
    c.pos += size;
    const b = c.u8('ModEx type and next packet type');
    const type = b >> 4;
    packetType = b & 0x0f;
    if (type === MODEX_TIMESTAMP_OFFSET_NANO) {
      if (size < 3) c.malformed(`ModEx TimestampOffsetNano needs at least 3 data bytes, has ${size}`, sizeAt);
      nano = c.body.readUIntBE(dataAt, 3);
    }
  }
  return nano === undefined ? { packetType } : { packetType, nano };
}

function fourccName(s: string): string {
  return JSON.stringify(s);
}

function isVideoKey(frameType: number): boolean {
  return frameType === 1 || frameType === 4;
}

/**
 * Parse the header bytes of a video tag body. `offset` is the stream offset of the body's first byte
 * (used in error messages only).
 */
export function parseVideoTagBody(body: Buffer, offset: number): TagBodyInfo {
  const c = new Cursor(body, offset, 'video');
  const b0 = c.u8('the video tag header byte');
  const frameType = (b0 >> 4) & 0x07;
  if (b0 & 0x80) return parseExVideo(c, frameType, b0 & 0x0f);

  const codecId = b0 & 0x0f;
  const codec = LEGACY_VIDEO[codecId];
  if (codec === undefined) c.unsupported(`legacy video codec id ${codecId}`, 0);
  if (frameType === 5) {
    return { codec, keyframe: false, config: false, endOfSequence: false, cts: 0, dataOffset: 1 };
  }
  if (frameType < 1 || frameType > 4) c.malformed(`reserved video frame type ${frameType}, expected 1-5`, 0);
  const keyframe = isVideoKey(frameType);
  if (codec !== 'avc' && codec !== 'hevc') {
    return { codec, keyframe, config: false, endOfSequence: false, cts: 0, dataOffset: 1 };
  }
  const packetType = c.u8(`the ${codec === 'avc' ? 'AVC' : 'HEVC'}PacketType`);
  const cts = c.si24('the composition time');
  switch (packetType) {
    case 0:
      return { codec, keyframe, config: true, endOfSequence: false, cts: 0, dataOffset: 5 };
    case 1:
      return { codec, keyframe, config: false, endOfSequence: false, cts, dataOffset: 5 };
    case 2:
      return { codec, keyframe, config: false, endOfSequence: true, cts: 0, dataOffset: 5 };
    default:
      return c.malformed(`unknown ${codec === 'avc' ? 'AVC' : 'HEVC'}PacketType ${packetType}, expected 0-2`, 1);
  }
}

function parseExVideo(c: Cursor, frameType: number, firstPacketType: number): TagBodyInfo {
  let packetType = firstPacketType;
  let nano: number | undefined;
  if (packetType === VIDEO_PT.ModEx) ({ packetType, nano } = readModEx(c, VIDEO_PT.ModEx));

  const isMetadata = packetType === VIDEO_PT.Metadata;
  // FrameType is ignored for Metadata packets, so its reserved values only matter elsewhere.
  if (!isMetadata && (frameType === 0 || frameType > 5)) c.malformed(`reserved video frame type ${frameType}, expected 1-5`, 0);
  const extra: { trackId?: number; timestampOffsetNano?: number } = nano === undefined ? {} : { timestampOffsetNano: nano };

  if (frameType === 5 && !isMetadata) {
    // A command frame carries a VideoCommand byte and no FourCC.
    const dataOffset = c.pos;
    c.u8('the video command');
    return { codec: 'unknown', keyframe: false, config: false, endOfSequence: false, cts: 0, dataOffset, ...extra };
  }

  const multitrack = packetType === VIDEO_PT.Multitrack;
  if (multitrack) packetType = readMultitrackHeader(c, VIDEO_PT.Multitrack, VIDEO_PT.ModEx, VIDEO_PACKET_TYPE_NAMES);
  if (packetType === VIDEO_PT.Mpeg2TsSequenceStart) {
    c.unsupported('VideoPacketType MPEG2TSSequenceStart (an MPEG-2 TS descriptor, not a configuration record)', 0);
  }
  if (packetType > VIDEO_PT.ModEx) c.unsupported(`reserved VideoPacketType ${packetType}`, 0);

  const fourccAt = c.pos;
  const fourcc = c.fourcc('the video FourCC');
  const codec = VIDEO_FOURCC[fourcc];
  if (codec === undefined) c.unsupported(`unknown video FourCC ${fourccName(fourcc)}`, fourccAt);
  if (multitrack) extra.trackId = c.u8('the video track id');

  const base = { codec, keyframe: isVideoKey(frameType), config: false, endOfSequence: false, cts: 0, ...extra };
  switch (packetType) {
    case VIDEO_PT.SequenceStart:
      return { ...base, config: true, dataOffset: c.pos };
    case VIDEO_PT.CodedFrames: {
      // Only the NALU-based codecs carry a composition time; AV1/VP8/VP9 have no B-frame reordering.
      const cts = codec === 'avc' || codec === 'hevc' ? c.si24('the composition time') : 0;
      return { ...base, cts, dataOffset: c.pos };
    }
    case VIDEO_PT.SequenceEnd:
      return { ...base, endOfSequence: true, dataOffset: c.pos };
    case VIDEO_PT.CodedFramesX:
      return { ...base, dataOffset: c.pos };
    default: // Metadata
      return { ...base, keyframe: false, dataOffset: c.pos };
  }
}

/**
 * AvMultitrack framing: a byte with the AvMultitrackType (high nibble) and the real packet type (low
 * nibble). Only OneTrack fits a MediaPacket; the FourCC and track id that follow are read by the caller.
 */
function readMultitrackHeader(c: Cursor, multitrackPt: number, modExPt: number, names: string[]): number {
  const at = c.pos;
  const b = c.u8('the multitrack type and packet type');
  const multitrackType = b >> 4;
  const packetType = b & 0x0f;
  if (packetType === multitrackPt || packetType === modExPt) {
    c.malformed(`multitrack packet carries packet type ${names[packetType]}, which is not allowed there`, at);
  }
  if (multitrackType !== 0) {
    const name = MULTITRACK_TYPE_NAMES[multitrackType] ?? `reserved (${multitrackType})`;
    c.unsupported(`multitrack type ${name} is not supported (only OneTrack)`, at);
  }
  return packetType;
}

/**
 * Parse the header bytes of an audio tag body. `offset` is the stream offset of the body's first byte
 * (used in error messages only). Audio packets are always keyframes.
 */
export function parseAudioTagBody(body: Buffer, offset: number): TagBodyInfo {
  const c = new Cursor(body, offset, 'audio');
  const b0 = c.u8('the audio tag header byte');
  const soundFormat = b0 >> 4;
  if (soundFormat === 9) return parseExAudio(c, b0 & 0x0f);
  const codec = LEGACY_AUDIO[soundFormat];
  if (codec === undefined) c.unsupported(`reserved sound format ${soundFormat}`, 0);
  if (codec !== 'aac') return { codec, keyframe: true, config: false, endOfSequence: false, cts: 0, dataOffset: 1 };
  const packetType = c.u8('the AACPacketType');
  if (packetType > 1) c.malformed(`unknown AACPacketType ${packetType}, expected 0 or 1`, 1);
  return { codec, keyframe: true, config: packetType === 0, endOfSequence: false, cts: 0, dataOffset: 2 };
}

function parseExAudio(c: Cursor, firstPacketType: number): TagBodyInfo {
  let packetType = firstPacketType;
  let nano: number | undefined;
  if (packetType === AUDIO_PT.ModEx) ({ packetType, nano } = readModEx(c, AUDIO_PT.ModEx));
  const extra: { trackId?: number; timestampOffsetNano?: number } = nano === undefined ? {} : { timestampOffsetNano: nano };

  const multitrack = packetType === AUDIO_PT.Multitrack;
  if (multitrack) packetType = readMultitrackHeader(c, AUDIO_PT.Multitrack, AUDIO_PT.ModEx, AUDIO_PACKET_TYPE_NAMES);
  if (packetType === AUDIO_PT.MultichannelConfig) {
    c.unsupported('AudioPacketType MultichannelConfig (multichannel config) is not supported', 0);
  }
  if (packetType > AUDIO_PT.SequenceEnd) c.unsupported(`reserved AudioPacketType ${packetType}`, 0);

  const fourccAt = c.pos;
  const fourcc = c.fourcc('the audio FourCC');
  const codec = AUDIO_FOURCC[fourcc];
  if (codec === undefined) c.unsupported(`unknown audio FourCC ${fourccName(fourcc)}`, fourccAt);
  if (multitrack) extra.trackId = c.u8('the audio track id');
  return {
    codec,
    keyframe: true,
    config: packetType === AUDIO_PT.SequenceStart,
    endOfSequence: packetType === AUDIO_PT.SequenceEnd,
    cts: 0,
    dataOffset: c.pos,
    ...extra,
  };
}
