import { CodecConfigError } from '../errors.js';
import { BitReader } from './bit-reader.js';

/** ISO/IEC 14496-3 Table 1.18. Indices 13 and 14 are reserved; 15 means an explicit 24-bit rate follows. */
export const AAC_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1), the body of an AAC sequence header. */
export interface AudioSpecificConfig {
  /** The object type as signalled first: 5 (SBR) or 29 (PS) under explicit hierarchical signalling. */
  audioObjectType: number;
  /** The core codec's object type (2 for HE-AAC over LC). Equal to audioObjectType without SBR/PS. */
  coreObjectType: number;
  samplingFrequencyIndex: number;
  /** The core sampling frequency. */
  samplingFrequency: number;
  channelConfiguration: number;
  /** SBR output frequency, when SBR is signalled (explicitly or by the backward-compatible extension). */
  extensionSamplingFrequency?: number;
  sbr: boolean;
  ps: boolean;
  /** Under channelConfiguration 0 the layout is in a program_config_element, not decoded here. */
  frameLengthFlag?: boolean;
  profile: string;
  /** The decoder's output rate: the SBR rate when SBR is present. */
  sampleRate: number;
  /** Output channels; 0 when defined by a program_config_element. */
  channels: number;
  /** RFC 6381 "mp4a.40.N" with N the first signalled object type. */
  codecString: string;
}

const WHAT = 'AudioSpecificConfig';

export function parseAudioSpecificConfig(asc: Uint8Array): AudioSpecificConfig {
  if (asc.length < 2) throw new CodecConfigError(`${WHAT}: ${asc.length} bytes, shorter than the 2-byte minimum`);
  const r = new BitReader(asc, WHAT);
  const audioObjectType = readObjectType(r);
  if (audioObjectType === 0) throw new CodecConfigError(`${WHAT}: audioObjectType 0 is not a codec`);
  const [samplingFrequencyIndex, samplingFrequency] = readFrequency(r);
  const channelConfiguration = r.u(4);
  if ((channelConfiguration >= 8 && channelConfiguration <= 10) || channelConfiguration === 15) {
    throw new CodecConfigError(`${WHAT}: channelConfiguration ${channelConfiguration} is reserved`);
  }

  let coreObjectType = audioObjectType;
  let sbr = false;
  let ps = false;
  let extensionSamplingFrequency: number | undefined;
  if (audioObjectType === 5 || audioObjectType === 29) {
    // Explicit hierarchical signalling: the SBR rate, then the real core object type.
    sbr = true;
    ps = audioObjectType === 29;
    extensionSamplingFrequency = readFrequency(r)[1];
    coreObjectType = readObjectType(r);
  }

  let frameLengthFlag: boolean | undefined;
  if (isGaObjectType(coreObjectType) && channelConfiguration !== 0) {
    // GASpecificConfig. With channelConfiguration 0 a program_config_element follows, whose length we
    // would have to decode to find the backward-compatible extension; that rare case is left unparsed.
    frameLengthFlag = r.flag();
    if (r.flag()) r.skip(14); // dependsOnCoreCoder → coreCoderDelay
    const extensionFlag = r.flag();
    if (coreObjectType === 6 || coreObjectType === 20) r.skip(3); // layerNr
    if (extensionFlag) {
      if (coreObjectType === 22) r.skip(16); // numOfSubFrame, layer_length
      if (coreObjectType === 17 || coreObjectType === 19 || coreObjectType === 20 || coreObjectType === 23) r.skip(3);
      r.skip(1); // extensionFlag3
    }
    // Backward-compatible SBR/PS signalling: a sync extension appended after the core config, which
    // old decoders ignore. Explicit signalling already said everything, so only look when it is absent.
    if (audioObjectType === coreObjectType && r.bitsLeft >= 16) {
      const sync = r.u(11);
      if (sync === 0x2b7) {
        const extType = readObjectType(r);
        if (extType === 5 && r.bitsLeft >= 1) {
          sbr = r.flag();
          if (sbr) {
            extensionSamplingFrequency = readFrequency(r)[1];
            if (r.bitsLeft >= 12 && r.u(11) === 0x548) ps = r.flag();
          }
        }
      }
    }
  }

  const channels = ps ? 2 : channelsFor(channelConfiguration);
  const sampleRate = sbr && extensionSamplingFrequency ? extensionSamplingFrequency : samplingFrequency;
  return {
    audioObjectType,
    coreObjectType,
    samplingFrequencyIndex,
    samplingFrequency,
    channelConfiguration,
    ...(extensionSamplingFrequency !== undefined ? { extensionSamplingFrequency } : {}),
    sbr,
    ps,
    ...(frameLengthFlag !== undefined ? { frameLengthFlag } : {}),
    profile: aacProfileName(ps ? 29 : sbr ? 5 : coreObjectType),
    sampleRate,
    channels,
    codecString: `mp4a.40.${audioObjectType}`,
  };
}

function readObjectType(r: BitReader): number {
  const t = r.u(5);
  return t === 31 ? 32 + r.u(6) : t;
}

function readFrequency(r: BitReader): [number, number] {
  const index = r.u(4);
  if (index === 15) {
    const hz = r.u(24);
    if (hz === 0) throw new CodecConfigError(`${WHAT}: explicit samplingFrequency of 0 Hz`);
    return [index, hz];
  }
  const hz = AAC_SAMPLE_RATES[index];
  if (hz === undefined) throw new CodecConfigError(`${WHAT}: samplingFrequencyIndex ${index} is reserved`);
  return [index, hz];
}

/** Object types whose config is a GASpecificConfig (ISO/IEC 14496-3 Table 1.15). */
function isGaObjectType(t: number): boolean {
  return [1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23].includes(t);
}

/** ISO/IEC 14496-3 Table 1.19 plus the later 11–14 layouts. */
function channelsFor(config: number): number {
  switch (config) {
    case 0: return 0;
    case 7: return 8;
    case 11: return 7;
    case 12: return 8;
    case 13: return 24;
    case 14: return 8;
    default: return config;
  }
}

export function aacProfileName(objectType: number): string {
  switch (objectType) {
    case 1: return 'Main';
    case 2: return 'LC';
    case 3: return 'SSR';
    case 4: return 'LTP';
    case 5: return 'HE-AAC';
    case 29: return 'HE-AACv2';
    case 23: return 'LD';
    case 39: return 'ELD';
    case 42: return 'xHE-AAC';
    default: return `AOT ${objectType}`;
  }
}
