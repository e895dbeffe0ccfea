import { CodecConfigError } from '../errors.js';
import { BitReader, unescapeRbsp } from './bit-reader.js';

export const HEVC_NAL = { VPS: 32, SPS: 33, PPS: 34, PREFIX_SEI: 39, SUFFIX_SEI: 40 } as const;

/** general_* fields of profile_tier_level, shared by the hvcC header and the SPS. */
export interface HevcProfileTierLevel {
  profileSpace: number;
  tierFlag: boolean;
  profileIdc: number;
  /** general_profile_compatibility_flag[0..31], flag 0 in the MSB. */
  profileCompatibilityFlags: number;
  /** The 48 bits of general constraint indicator flags, as 6 bytes. */
  constraintIndicatorFlags: Buffer;
  levelIdc: number;
}

export interface HevcSps {
  ptl: HevcProfileTierLevel;
  maxSubLayers: number;
  spsId: number;
  chromaFormatIdc: number;
  separateColourPlane: boolean;
  codedWidth: number;
  codedHeight: number;
  /** Conformance window offsets in chroma sample units, as coded. */
  conformanceWindow: { left: number; right: number; top: number; bottom: number };
  width: number;
  height: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
}

export interface HevcNalArray {
  completeness: boolean;
  nalType: number;
  nalus: Buffer[];
}

/** HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3). */
export interface HevcDecoderConfig extends HevcProfileTierLevel {
  version: number;
  minSpatialSegmentationIdc: number;
  parallelismType: number;
  chromaFormat: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  avgFrameRate: number;
  constantFrameRate: number;
  numTemporalLayers: number;
  temporalIdNested: boolean;
  nalLengthSize: number;
  arrays: HevcNalArray[];
  vps: Buffer[];
  sps: Buffer[];
  pps: Buffer[];
  /** The first SPS, parsed, when the record carries one. */
  spsInfo?: HevcSps;
  profile: string;
  level: string;
  width?: number;
  height?: number;
  /** RFC 6381 / ISO/IEC 14496-15 Annex E "hvc1.…". */
  codecString: string;
}

const RECORD = 'HEVCDecoderConfigurationRecord';

export function parseHevcDecoderConfig(record: Uint8Array): HevcDecoderConfig {
  const buf = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  if (buf.length < 23) throw new CodecConfigError(`${RECORD}: ${buf.length} bytes, shorter than the 23-byte header`);
  const version = buf[0]!;
  if (version !== 1) throw new CodecConfigError(`${RECORD}: configurationVersion ${version}, expected 1`);
  const ptl: HevcProfileTierLevel = {
    profileSpace: buf[1]! >> 6,
    tierFlag: (buf[1]! & 0x20) !== 0,
    profileIdc: buf[1]! & 0x1f,
    profileCompatibilityFlags: buf.readUInt32BE(2),
    constraintIndicatorFlags: Buffer.from(buf.subarray(6, 12)),
    levelIdc: buf[12]!,
  };
  const minSpatialSegmentationIdc = buf.readUInt16BE(13) & 0x0fff;
  const parallelismType = buf[15]! & 3;
  const chromaFormat = buf[16]! & 3;
  const bitDepthLuma = (buf[17]! & 7) + 8;
  const bitDepthChroma = (buf[18]! & 7) + 8;
  const avgFrameRate = buf.readUInt16BE(19);
  const constantFrameRate = buf[21]! >> 6;
  const numTemporalLayers = (buf[21]! >> 3) & 7;
  const temporalIdNested = (buf[21]! & 4) !== 0;
  const lengthSizeMinusOne = buf[21]! & 3;
  if (lengthSizeMinusOne === 2) {
    throw new CodecConfigError(`${RECORD}: lengthSizeMinusOne 2 (3-byte NAL lengths) is not allowed`);
  }
  const numArrays = buf[22]!;
  let p = 23;
  const arrays: HevcNalArray[] = [];
  for (let a = 0; a < numArrays; a++) {
    if (p + 3 > buf.length) throw new CodecConfigError(`${RECORD}: truncated in the header of NAL array #${a}`);
    const completeness = (buf[p]! & 0x80) !== 0;
    const nalType = buf[p]! & 0x3f;
    const count = buf.readUInt16BE(p + 1);
    p += 3;
    const nalus: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (p + 2 > buf.length) throw new CodecConfigError(`${RECORD}: truncated in the length of NAL #${i} of array #${a}`);
      const len = buf.readUInt16BE(p);
      p += 2;
      if (p + len > buf.length) {
        throw new CodecConfigError(`${RECORD}: NAL #${i} of array #${a} declares ${len} bytes but ${buf.length - p} remain`);
      }
      nalus.push(buf.subarray(p, p + len));
      p += len;
    }
    arrays.push({ completeness, nalType, nalus });
  }
  const ofType = (t: number) => arrays.filter((a) => a.nalType === t).flatMap((a) => a.nalus);
  const vps = ofType(HEVC_NAL.VPS);
  const sps = ofType(HEVC_NAL.SPS);
  const pps = ofType(HEVC_NAL.PPS);
  const spsInfo = sps.length > 0 ? parseHevcSps(sps[0]!) : undefined;

  return {
    version,
    ...ptl,
    minSpatialSegmentationIdc,
    parallelismType,
    chromaFormat,
    bitDepthLuma,
    bitDepthChroma,
    avgFrameRate,
    constantFrameRate,
    numTemporalLayers,
    temporalIdNested,
    nalLengthSize: lengthSizeMinusOne + 1,
    arrays,
    vps,
    sps,
    pps,
    ...(spsInfo ? { spsInfo, width: spsInfo.width, height: spsInfo.height } : {}),
    profile: hevcProfileName(ptl.profileIdc, ptl.profileCompatibilityFlags),
    level: hevcLevelName(ptl.levelIdc),
    codecString: hevcCodecString(ptl),
  };
}

/** Parses an H.265 SPS NAL unit (with its two-byte NAL header, still escaped), up to the bit depths. */
export function parseHevcSps(nal: Uint8Array): HevcSps {
  if (nal.length < 3) throw new CodecConfigError(`HEVC SPS: ${nal.length} bytes is too short`);
  const nalType = (nal[0]! >> 1) & 0x3f;
  if (nalType !== HEVC_NAL.SPS) throw new CodecConfigError(`HEVC SPS: NAL unit type ${nalType}, expected ${HEVC_NAL.SPS}`);
  const r = new BitReader(unescapeRbsp(nal.subarray(2)), 'HEVC SPS');
  r.skip(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.u(3);
  if (maxSubLayersMinus1 > 6) throw new CodecConfigError(`HEVC SPS: sps_max_sub_layers_minus1 ${maxSubLayersMinus1} is out of range`);
  r.skip(1); // sps_temporal_id_nesting_flag
  const ptl = readProfileTierLevel(r, maxSubLayersMinus1);
  const spsId = r.ue();
  if (spsId > 15) throw new CodecConfigError(`HEVC SPS: sps_seq_parameter_set_id ${spsId} is out of range`);
  const chromaFormatIdc = r.ue();
  if (chromaFormatIdc > 3) throw new CodecConfigError(`HEVC SPS: chroma_format_idc ${chromaFormatIdc} is out of range`);
  const separateColourPlane = chromaFormatIdc === 3 ? r.flag() : false;
  const codedWidth = r.ue();
  const codedHeight = r.ue();
  const conformanceWindow = { left: 0, right: 0, top: 0, bottom: 0 };
  if (r.flag()) {
    conformanceWindow.left = r.ue();
    conformanceWindow.right = r.ue();
    conformanceWindow.top = r.ue();
    conformanceWindow.bottom = r.ue();
  }
  const bitDepthLuma = r.ue() + 8;
  const bitDepthChroma = r.ue() + 8;
  if (bitDepthLuma > 16 || bitDepthChroma > 16) {
    throw new CodecConfigError(`HEVC SPS: bit depth ${bitDepthLuma}/${bitDepthChroma} is out of range`);
  }
  // Offsets are in chroma sample units (H.265 7.4.3.2); with separate colour planes there is no subsampling.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const width = codedWidth - subWidthC * (conformanceWindow.left + conformanceWindow.right);
  const height = codedHeight - subHeightC * (conformanceWindow.top + conformanceWindow.bottom);
  if (codedWidth === 0 || codedHeight === 0 || width <= 0 || height <= 0) {
    throw new CodecConfigError(
      `HEVC SPS: conformance window leaves ${width}x${height} of a ${codedWidth}x${codedHeight} picture`,
    );
  }
  return {
    ptl,
    maxSubLayers: maxSubLayersMinus1 + 1,
    spsId,
    chromaFormatIdc,
    separateColourPlane,
    codedWidth,
    codedHeight,
    conformanceWindow,
    width,
    height,
    bitDepthLuma,
    bitDepthChroma,
  };
}

function readProfileTierLevel(r: BitReader, maxSubLayersMinus1: number): HevcProfileTierLevel {
  const profileSpace = r.u(2);
  const tierFlag = r.flag();
  const profileIdc = r.u(5);
  const profileCompatibilityFlags = r.u(32);
  const constraintIndicatorFlags = Buffer.alloc(6);
  for (let i = 0; i < 6; i++) constraintIndicatorFlags[i] = r.u(8);
  const levelIdc = r.u(8);
  const profilePresent: boolean[] = [];
  const levelPresent: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    profilePresent.push(r.flag());
    levelPresent.push(r.flag());
  }
  if (maxSubLayersMinus1 > 0) r.skip(2 * (8 - maxSubLayersMinus1)); // reserved_zero_2bits
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent[i]) r.skip(88);
    if (levelPresent[i]) r.skip(8);
  }
  return { profileSpace, tierFlag, profileIdc, profileCompatibilityFlags, constraintIndicatorFlags, levelIdc };
}

/**
 * H.265 Annex A profile names. A stream may leave general_profile_idc 0 and signal the profile only by a
 * compatibility flag, so the lowest set flag stands in for it.
 */
export function hevcProfileName(profileIdc: number, compatibilityFlags = 0): string {
  let idc = profileIdc;
  if (idc === 0) {
    for (let j = 1; j < 32; j++) {
      if (compatibilityFlags & (1 << (31 - j))) {
        idc = j;
        break;
      }
    }
  }
  switch (idc) {
    case 1: return 'Main';
    case 2: return 'Main 10';
    case 3: return 'Main Still Picture';
    case 4: return 'RExt';
    case 5: return 'High Throughput';
    case 9: return 'SCC';
    default: return `Profile ${idc}`;
  }
}

/** general_level_idc is 30 times the level number: 120 → "4.0", 93 → "3.1". */
export function hevcLevelName(levelIdc: number): string {
  return (levelIdc / 30).toFixed(1);
}

/** ISO/IEC 14496-15 Annex E.3: hvc1.[A-C]?profile.compat(bit-reversed hex).tier+level[.constraint bytes]. */
export function hevcCodecString(ptl: HevcProfileTierLevel): string {
  const space = ['', 'A', 'B', 'C'][ptl.profileSpace] ?? '';
  let reversed = 0;
  for (let i = 0; i < 32; i++) {
    if (ptl.profileCompatibilityFlags & (1 << i)) reversed |= 1 << (31 - i);
  }
  const parts = [
    'hvc1',
    `${space}${ptl.profileIdc}`,
    (reversed >>> 0).toString(16).toUpperCase(),
    `${ptl.tierFlag ? 'H' : 'L'}${ptl.levelIdc}`,
  ];
  // Trailing zero constraint bytes are omitted.
  let last = ptl.constraintIndicatorFlags.length;
  while (last > 0 && ptl.constraintIndicatorFlags[last - 1] === 0) last--;
  for (let i = 0; i < last; i++) parts.push(ptl.constraintIndicatorFlags[i]!.toString(16).toUpperCase());
  return parts.join('.');
}
