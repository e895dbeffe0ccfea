import type { Codec, TrackKind } from './packet.js';

/** What is known about one track, from its decoder configuration (or tag flags for legacy audio). */
export interface TrackInfo {
  kind: Exclude<TrackKind, 'script'>;
  codec: Codec;
  /** Codec profile by name where one exists ("High", "Main", "LC", "Main 10"...). */
  profile?: string;
  /** Level as the codec writes it ("3.1" for AVC level_idc 31, "4.0" for HEVC general_level_idc 120...). */
  level?: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  /** An RFC 6381 codecs string when it can be derived ("avc1.64001f", "mp4a.40.2"). */
  codecString?: string;
}
