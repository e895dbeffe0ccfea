import { CodecConfigError } from '../errors.js';

/** Identification header "OpusHead" (RFC 7845 5.1), the body of an Opus sequence start. */
export interface OpusHead {
  version: number;
  channels: number;
  /** Samples at 48 kHz to discard from the decoder output at the start. */
  preSkip: number;
  /** The rate of the original input, informational only: Opus always decodes at 48 kHz. */
  inputSampleRate: number;
  /** Output gain as coded, Q7.8 fixed point dB. */
  outputGain: number;
  outputGainDb: number;
  mappingFamily: number;
  /** Present for mapping families other than 0. */
  streamCount?: number;
  coupledCount?: number;
  channelMapping?: number[];
  /** The rate a decoder outputs, 48000. */
  sampleRate: number;
  codecString: 'opus';
}

const WHAT = 'OpusHead';
const MAGIC = Buffer.from('OpusHead', 'latin1');

export function parseOpusHead(buf: Uint8Array): OpusHead {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 19) throw new CodecConfigError(`${WHAT}: ${b.length} bytes, shorter than the 19-byte header`);
  if (!b.subarray(0, 8).equals(MAGIC)) throw new CodecConfigError(`${WHAT}: magic signature is not "OpusHead"`);
  const version = b[8]!;
  // The upper nibble is the major version; only 0 is defined and a decoder must reject others.
  if (version >> 4 !== 0) throw new CodecConfigError(`${WHAT}: unsupported major version in version ${version}`);
  const channels = b[9]!;
  if (channels === 0) throw new CodecConfigError(`${WHAT}: channel count 0`);
  const preSkip = b.readUInt16LE(10);
  const inputSampleRate = b.readUInt32LE(12);
  const outputGain = b.readInt16LE(16);
  const mappingFamily = b[18]!;
  const head: OpusHead = {
    version,
    channels,
    preSkip,
    inputSampleRate,
    outputGain,
    outputGainDb: outputGain / 256,
    mappingFamily,
    sampleRate: 48000,
    codecString: 'opus',
  };
  if (mappingFamily === 0) {
    if (channels > 2) throw new CodecConfigError(`${WHAT}: mapping family 0 allows 1 or 2 channels, not ${channels}`);
    return head;
  }
  if (b.length < 21 + channels) {
    throw new CodecConfigError(`${WHAT}: mapping family ${mappingFamily} needs a ${21 + channels}-byte header, got ${b.length}`);
  }
  const streamCount = b[19]!;
  const coupledCount = b[20]!;
  if (streamCount === 0) throw new CodecConfigError(`${WHAT}: stream count 0`);
  if (coupledCount > streamCount) {
    throw new CodecConfigError(`${WHAT}: coupled stream count ${coupledCount} exceeds stream count ${streamCount}`);
  }
  const channelMapping = [...b.subarray(21, 21 + channels)];
  const decoded = streamCount + coupledCount;
  for (const m of channelMapping) {
    // 255 marks a silent channel; anything else must name a decoded channel.
    if (m !== 255 && m >= decoded) {
      throw new CodecConfigError(`${WHAT}: channel mapping entry ${m} exceeds the ${decoded} decoded channels`);
    }
  }
  return { ...head, streamCount, coupledCount, channelMapping };
}
