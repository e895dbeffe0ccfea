import { CodecConfigError } from '../errors.js';
import { BitReader, unescapeRbsp } from './bit-reader.js';

/** The fields of an H.264 sequence parameter set that describe the picture. */
export interface AvcSps {
  profileIdc: number;
  /** constraint_set0..5 flags as the byte that carries them (constraint_set0 is the MSB). */
  constraintFlags: number;
  levelIdc: number;
  spsId: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  chromaFormatIdc: number;
  separateColourPlane: boolean;
  bitDepthLuma: number;
  bitDepthChroma: number;
  frameMbsOnly: boolean;
  /** Coded size before cropping. */
  codedWidth: number;
  codedHeight: number;
  crop: { left: number; right: number; top: number; bottom: number };
  /** Display size after frame cropping. */
  width: number;
  height: number;
}

/** AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3), the body of an AVC sequence header. */
export interface AvcDecoderConfig {
  version: number;
  profileIdc: number;
  profileCompatibility: number;
  levelIdc: number;
  /** Bytes of the length prefix before each NAL unit in frames: 1, 2 or 4. */
  nalLengthSize: number;
  sps: Buffer[];
  pps: Buffer[];
  /** The first SPS, parsed. */
  spsInfo: AvcSps;
  /** Present only in records of the High profiles that carry the extension. */
  ext?: { chromaFormat: number; bitDepthLuma: number; bitDepthChroma: number; spsExt: Buffer[] };
  profile: string;
  level: string;
  width: number;
  height: number;
  /** RFC 6381 "avc1.PPCCLL". */
  codecString: string;
}

const RECORD = 'AVCDecoderConfigurationRecord';

// Profiles whose SPS carries chroma_format_idc, bit depths and scaling matrices (H.264 7.3.2.1.1).
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

export function parseAvcDecoderConfig(record: Uint8Array): AvcDecoderConfig {
  const buf = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  if (buf.length < 7) throw new CodecConfigError(`${RECORD}: ${buf.length} bytes, shorter than the 7-byte minimum`);
  const version = buf[0]!;
  if (version !== 1) throw new CodecConfigError(`${RECORD}: configurationVersion ${version}, expected 1`);
  const profileIdc = buf[1]!;
  const profileCompatibility = buf[2]!;
  const levelIdc = buf[3]!;
  const lengthSizeMinusOne = buf[4]! & 3;
  if (lengthSizeMinusOne === 2) {
    throw new CodecConfigError(`${RECORD}: lengthSizeMinusOne 2 (3-byte NAL lengths) is not allowed`);
  }
  let p = 5;
  const readList = (count: number, name: string): Buffer[] => {
    const list: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (p + 2 > buf.length) throw new CodecConfigError(`${RECORD}: truncated in the length of ${name} #${i}`);
      const len = buf.readUInt16BE(p);
      p += 2;
      if (p + len > buf.length) {
        throw new CodecConfigError(`${RECORD}: ${name} #${i} declares ${len} bytes but ${buf.length - p} remain`);
      }
      list.push(buf.subarray(p, p + len));
      p += len;
    }
    return list;
  };
  const sps = readList(buf[p++]! & 0x1f, 'SPS');
  if (p >= buf.length) throw new CodecConfigError(`${RECORD}: truncated before numOfPictureParameterSets`);
  const pps = readList(buf[p++]!, 'PPS');
  if (sps.length === 0) throw new CodecConfigError(`${RECORD}: no SPS`);

  let ext: AvcDecoderConfig['ext'];
  // The High-profile extension is optional in practice (many muxers omit it), so only a complete one is read.
  if (HIGH_PROFILES.has(profileIdc) && p + 4 <= buf.length) {
    const save = p;
    try {
      const chromaFormat = buf[p++]! & 3;
      const bitDepthLuma = (buf[p++]! & 7) + 8;
      const bitDepthChroma = (buf[p++]! & 7) + 8;
      const spsExt = readList(buf[p++]!, 'SPS extension');
      ext = { chromaFormat, bitDepthLuma, bitDepthChroma, spsExt };
    } catch {
      p = save;
    }
  }

  const spsInfo = parseAvcSps(sps[0]!);
  return {
    version,
    profileIdc,
    profileCompatibility,
    levelIdc,
    nalLengthSize: lengthSizeMinusOne + 1,
    sps,
    pps,
    spsInfo,
    ...(ext ? { ext } : {}),
    profile: avcProfileName(spsInfo.profileIdc, spsInfo.constraintFlags),
    level: avcLevelName(spsInfo.levelIdc, spsInfo.profileIdc, spsInfo.constraintFlags),
    width: spsInfo.width,
    height: spsInfo.height,
    codecString: avcCodecString(spsInfo.profileIdc, spsInfo.constraintFlags, spsInfo.levelIdc),
  };
}

/** Parses an H.264 SPS NAL unit (with its one-byte NAL header, still escaped). */
export function parseAvcSps(nal: Uint8Array): AvcSps {
  if (nal.length < 4) throw new CodecConfigError(`AVC SPS: ${nal.length} bytes is too short`);
  const nalType = nal[0]! & 0x1f;
  if (nalType !== 7) throw new CodecConfigError(`AVC SPS: NAL unit type ${nalType}, expected 7`);
  const r = new BitReader(unescapeRbsp(nal.subarray(1)), 'AVC SPS');
  const profileIdc = r.u(8);
  const constraintFlags = r.u(8);
  const levelIdc = r.u(8);
  const spsId = r.ue();
  if (spsId > 31) throw new CodecConfigError(`AVC SPS: seq_parameter_set_id ${spsId} is out of range`);

  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc > 3) throw new CodecConfigError(`AVC SPS: chroma_format_idc ${chromaFormatIdc} is out of range`);
    if (chromaFormatIdc === 3) separateColourPlane = r.flag();
    bitDepthLuma = r.ue() + 8;
    bitDepthChroma = r.ue() + 8;
    if (bitDepthLuma > 14 || bitDepthChroma > 14) {
      throw new CodecConfigError(`AVC SPS: bit depth ${bitDepthLuma}/${bitDepthChroma} is out of range`);
    }
    r.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {
      // seq_scaling_matrix_present_flag: the lists are delta coded and have to be walked to skip them.
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) {
        if (r.flag()) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }

  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) {
    r.ue(); // log2_max_pic_order_cnt_lsb_minus4
  } else if (pocType === 1) {
    r.skip(1); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ue();
    if (cycle > 255) throw new CodecConfigError(`AVC SPS: num_ref_frames_in_pic_order_cnt_cycle ${cycle} is out of range`);
    for (let i = 0; i < cycle; i++) r.se();
  } else if (pocType !== 2) {
    throw new CodecConfigError(`AVC SPS: pic_order_cnt_type ${pocType} is out of range`);
  }
  r.ue(); // max_num_ref_frames
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.flag();
  if (!frameMbsOnly) r.skip(1); // mb_adaptive_frame_field_flag
  r.skip(1); // direct_8x8_inference_flag
  const crop = { left: 0, right: 0, top: 0, bottom: 0 };
  if (r.flag()) {
    crop.left = r.ue();
    crop.right = r.ue();
    crop.top = r.ue();
    crop.bottom = r.ue();
  }

  const codedWidth = widthMbs * 16;
  const codedHeight = (frameMbsOnly ? 1 : 2) * heightMapUnits * 16;
  // Crop offsets count chroma samples (and field pairs for interlaced), per H.264 7.4.2.1.1.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 0 || chromaArrayType === 3 ? 1 : 2;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const cropUnitX = subWidthC;
  const cropUnitY = subHeightC * (frameMbsOnly ? 1 : 2);
  const width = codedWidth - cropUnitX * (crop.left + crop.right);
  const height = codedHeight - cropUnitY * (crop.top + crop.bottom);
  if (width <= 0 || height <= 0) {
    throw new CodecConfigError(`AVC SPS: frame cropping leaves ${width}x${height} of a ${codedWidth}x${codedHeight} picture`);
  }
  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    separateColourPlane,
    bitDepthLuma,
    bitDepthChroma,
    frameMbsOnly,
    codedWidth,
    codedHeight,
    crop,
    width,
    height,
  };
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = r.se();
      if (delta < -128 || delta > 127) throw new CodecConfigError(`AVC SPS: delta_scale ${delta} is out of range`);
      next = (last + delta + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

/** Profile names as H.264 Annex A names them (and as ffprobe prints them). */
export function avcProfileName(profileIdc: number, constraintFlags: number): string {
  const set1 = (constraintFlags & 0x40) !== 0;
  const set3 = (constraintFlags & 0x10) !== 0;
  switch (profileIdc) {
    case 66: return set1 ? 'Constrained Baseline' : 'Baseline';
    case 77: return 'Main';
    case 88: return 'Extended';
    case 100: return 'High';
    case 110: return set3 ? 'High 10 Intra' : 'High 10';
    case 122: return set3 ? 'High 4:2:2 Intra' : 'High 4:2:2';
    case 244: return set3 ? 'High 4:4:4 Intra' : 'High 4:4:4 Predictive';
    case 44: return 'CAVLC 4:4:4 Intra';
    default: return `Profile ${profileIdc}`;
  }
}

/** "3.1" for level_idc 31; "1b" where the spec encodes it (level_idc 11 with constraint_set3, or 9). */
export function avcLevelName(levelIdc: number, profileIdc: number, constraintFlags: number): string {
  const set3 = (constraintFlags & 0x10) !== 0;
  if (levelIdc === 9 || (levelIdc === 11 && set3 && (profileIdc === 66 || profileIdc === 77 || profileIdc === 88))) {
    return '1b';
  }
  return `${Math.floor(levelIdc / 10)}.${levelIdc % 10}`;
}

export function avcCodecString(profileIdc: number, constraintFlags: number, levelIdc: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `avc1.${hex(profileIdc)}${hex(constraintFlags)}${hex(levelIdc)}`;
}
