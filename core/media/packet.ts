/**
 * The unit that flows between stages once FLV bytes are parsed: one FLV tag, with the fields every
 * stage needs already decoded. `body` is the tag body exactly as it travels in FLV, so muxing a packet
 * back is a header write plus the same bytes.
 */
export type TrackKind = 'audio' | 'video' | 'script';

/** Codec names used across the project (FourCC-derived for Enhanced RTMP, legacy ids mapped to the same). */
export type VideoCodec = 'avc' | 'hevc' | 'av1' | 'vp9' | 'vp8' | 'h263' | 'screen' | 'vp6' | 'vp6a' | 'screen2' | 'jpeg' | 'unknown';
export type AudioCodec =
  | 'aac' | 'mp3' | 'opus' | 'flac' | 'ac3' | 'eac3'
  | 'pcm' | 'adpcm' | 'pcm-le' | 'nellymoser' | 'g711a' | 'g711u' | 'speex' | 'mp3-8k' | 'device' | 'unknown';
export type Codec = VideoCodec | AudioCodec | 'amf0';

export interface MediaPacket {
  kind: TrackKind;
  /** Decode timestamp in ms: the 24-bit tag timestamp with its 8-bit extension. */
  dts: number;
  /** Composition time offset in ms (signed 24-bit; 0 where the codec has none). */
  cts: number;
  /** Presentation timestamp in ms: dts + cts. */
  pts: number;
  /** Video: a random access point. Audio and script: always true (any packet can start playback). */
  keyframe: boolean;
  /** A decoder configuration (sequence header / SequenceStart): must reach a player before any frame. */
  config: boolean;
  /** An end-of-sequence marker (AVC/HEVC EOS, Enhanced RTMP SequenceEnd). */
  endOfSequence: boolean;
  codec: Codec;
  /** The FLV tag body, untouched. A view into the received buffer when the tag arrived in one chunk. */
  body: Buffer;
  /**
   * Where the codec payload starts inside `body`, past FLV's own per-tag headers (legacy AVC: 5, legacy
   * AAC: 2, Enhanced RTMP: 5 plus any ModEx/multitrack framing). For a config packet this is where the
   * decoder configuration record (avcC, hvcC, av1C, AudioSpecificConfig, OpusHead...) begins.
   */
  dataOffset: number;
  /** Byte offset of the tag header in the FLV byte stream it came from (diagnostics). */
  offset?: number;
  /** Enhanced RTMP multitrack: the track id (0 for single-track). */
  trackId?: number;
  /** Script tags: the decoded AMF0 values, e.g. `['onMetaData', {...}]`. */
  script?: { name: string; values: unknown[]; wrapped?: true };
}

export const TAG_TYPE = { audio: 8, video: 9, script: 18 } as const;
