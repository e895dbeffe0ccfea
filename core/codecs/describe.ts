import type { MediaPacket } from '../media/packet.js';
import type { TrackInfo } from '../media/track.js';
import { parseAudioSpecificConfig } from './aac.js';
import { parseAv1CodecConfig } from './av1.js';
import { parseAvcDecoderConfig } from './avc.js';
import { parseHevcDecoderConfig } from './hevc.js';
import { parseOpusHead } from './opus.js';

/** FLV SoundFormat 9: the Enhanced RTMP ExHeader, after which the first byte carries no rate or channels. */
const SOUND_FORMAT_EX_HEADER = 9;

const LEGACY_AUDIO = new Set(['pcm', 'adpcm', 'mp3', 'pcm-le', 'nellymoser', 'g711a', 'g711u', 'speex', 'mp3-8k', 'device']);

/**
 * What a packet tells about its track: for a decoder configuration, the parsed record; for legacy FLV
 * audio that has none, the flags of the tag's first byte. Other packets return undefined.
 *
 * Throws CodecConfigError when the configuration record is malformed.
 */
export function describeTrack(packet: MediaPacket): TrackInfo | undefined {
  if (packet.kind === 'script') return undefined;
  if (packet.config) return describeConfig(packet.kind, packet);
  if (packet.kind === 'audio' && LEGACY_AUDIO.has(packet.codec)) return describeLegacyAudio(packet);
  return undefined;
}

function describeConfig(kind: 'audio' | 'video', packet: MediaPacket): TrackInfo {
  const record = packet.body.subarray(packet.dataOffset);
  switch (packet.codec) {
    case 'avc': {
      const c = parseAvcDecoderConfig(record);
      return { kind, codec: 'avc', profile: c.profile, level: c.level, width: c.width, height: c.height, codecString: c.codecString };
    }
    case 'hevc': {
      const c = parseHevcDecoderConfig(record);
      return withoutUndefined({
        kind, codec: 'hevc', profile: c.profile, level: c.level, width: c.width, height: c.height, codecString: c.codecString,
      });
    }
    case 'av1': {
      const c = parseAv1CodecConfig(record);
      return withoutUndefined({
        kind, codec: 'av1', profile: c.profile, level: c.level, width: c.width, height: c.height, codecString: c.codecString,
      });
    }
    case 'aac': {
      const c = parseAudioSpecificConfig(record);
      return withoutUndefined({
        kind, codec: 'aac', profile: c.profile, sampleRate: c.sampleRate,
        channels: c.channels || undefined, codecString: c.codecString,
      });
    }
    case 'opus': {
      const c = parseOpusHead(record);
      return { kind, codec: 'opus', sampleRate: c.sampleRate, channels: c.channels, codecString: c.codecString };
    }
    default:
      // A configuration this project does not parse (VP9 vpcC, FLAC, AC-3...): the codec is still known.
      return { kind, codec: packet.codec };
  }
}

function describeLegacyAudio(packet: MediaPacket): TrackInfo | undefined {
  const first = packet.body[0];
  if (first === undefined) return undefined;
  const isMp3 = packet.codec === 'mp3' || packet.codec === 'mp3-8k';
  // The FLV rate flag cannot express 48 kHz or 32 kHz MP3, so the MPEG frame header, when present, wins.
  const mp3 = isMp3 ? parseMpegAudioHeader(packet.body.subarray(packet.dataOffset)) : undefined;
  if (mp3) return { kind: 'audio', codec: packet.codec, ...mp3 };
  if (first >> 4 === SOUND_FORMAT_EX_HEADER) return undefined;

  const rateFlag = (first >> 2) & 3;
  const stereo = (first & 1) === 1;
  let sampleRate = [5512, 11025, 22050, 44100][rateFlag]!;
  let channels = stereo ? 2 : 1;
  // Formats whose rate (and channel count) is fixed whatever the flags say (FLV spec, Annex E.4.2.1).
  switch (packet.codec) {
    case 'mp3-8k':
      sampleRate = 8000;
      break;
    case 'nellymoser':
      // SoundFormat 4 and 5 are Nellymoser at fixed 16 and 8 kHz mono; 6 follows the flags.
      if (first >> 4 === 4) { sampleRate = 16000; channels = 1; }
      if (first >> 4 === 5) { sampleRate = 8000; channels = 1; }
      break;
    case 'g711a':
    case 'g711u':
      sampleRate = 8000;
      break;
    case 'speex':
      sampleRate = 16000;
      channels = 1;
      break;
  }
  return { kind: 'audio', codec: packet.codec, sampleRate, channels };
}

const MPEG_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/** Rate and channels from an MPEG audio frame header, or undefined when the bytes are not one. */
function parseMpegAudioHeader(b: Buffer): Pick<TrackInfo, 'sampleRate' | 'channels' | 'codecString'> | undefined {
  if (b.length < 4 || b[0] !== 0xff || (b[1]! & 0xe0) !== 0xe0) return undefined;
  const version = (b[1]! >> 3) & 3;
  const layer = (b[1]! >> 1) & 3;
  const rateIndex = (b[2]! >> 2) & 3;
  const bitrateIndex = b[2]! >> 4;
  const sampleRate = MPEG_RATES[version]?.[rateIndex];
  if (sampleRate === undefined || layer === 0 || bitrateIndex === 15) return undefined;
  const channels = b[3]! >> 6 === 3 ? 1 : 2;
  // ISO/IEC 14496-1 objectTypeIndication: 0x6B MPEG-1 audio, 0x69 MPEG-2 (and 2.5) audio.
  return { sampleRate, channels, codecString: version === 3 ? 'mp4a.6B' : 'mp4a.69' };
}

function withoutUndefined(info: TrackInfo): TrackInfo {
  for (const key of Object.keys(info) as (keyof TrackInfo)[]) {
    if (info[key] === undefined) delete info[key];
  }
  return info;
}
