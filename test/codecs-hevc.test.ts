import test from 'ava';
import { hevcCodecString, hevcLevelName, hevcProfileName, parseHevcDecoderConfig, parseHevcSps } from '../core/codecs/hevc.js';
import { CodecConfigError } from '../core/errors.js';
import { assertOnlyCodecConfigErrors } from './helpers/codec-fuzz.js';
import { BitWriter, escapeRbsp, mp4Record, probe, probedFiles } from './helpers/codec-records.js';

const files = probedFiles('hevc-');

test('fixture list is not empty', (t) => {
  t.true(files.length >= 3);
});

for (const file of files) {
  test(`hvcC from ${file} (libx265) matches ffprobe`, (t) => {
    const c = parseHevcDecoderConfig(mp4Record(file, 'hvcC'));
    const p = probe(file, 'video');
    t.deepEqual(
      { width: c.width, height: c.height, profile: c.profile.toLowerCase(), level: c.levelIdc },
      // ffprobe spells the range extensions profile "Rext".
      { width: p.width, height: p.height, profile: p.profile?.toLowerCase(), level: p.level },
    );
    t.is(c.level, (p.level! / 30).toFixed(1));
    const depth = p.pix_fmt?.includes('10') ? 10 : 8;
    const chroma = p.pix_fmt?.startsWith('yuv444') ? 3 : p.pix_fmt?.startsWith('yuv422') ? 2 : 1;
    t.deepEqual([c.bitDepthLuma, c.bitDepthChroma, c.chromaFormat], [depth, depth, chroma]);
    t.deepEqual([c.spsInfo?.bitDepthLuma, c.spsInfo?.chromaFormatIdc], [depth, chroma]);
    t.is(c.version, 1);
    t.is(c.nalLengthSize, 4);
    t.deepEqual([c.vps.length, c.sps.length, c.pps.length], [1, 1, 1]);
    // The record header repeats the SPS's profile_tier_level.
    t.deepEqual(
      { ...c.spsInfo!.ptl },
      {
        profileSpace: c.profileSpace, tierFlag: c.tierFlag, profileIdc: c.profileIdc,
        profileCompatibilityFlags: c.profileCompatibilityFlags,
        constraintIndicatorFlags: c.constraintIndicatorFlags, levelIdc: c.levelIdc,
      },
    );
  });
}

test('642x362 is cropped by the conformance window in chroma units', (t) => {
  const c = parseHevcDecoderConfig(mp4Record('hevc-642x362-main.mp4', 'hvcC'));
  t.deepEqual([c.spsInfo!.codedWidth, c.spsInfo!.codedHeight], [656, 368]);
  t.deepEqual(c.spsInfo!.conformanceWindow, { left: 0, right: 7, top: 0, bottom: 3 });
  t.is(c.codecString, 'hvc1.1.6.L63.90');
  const c10 = parseHevcDecoderConfig(mp4Record('hevc-1920x1080-main10.mp4', 'hvcC'));
  t.is(c10.spsInfo!.codedHeight, 1088);
  t.is(c10.codecString, 'hvc1.2.4.L120.90');
  t.is(c10.level, '4.0');
});

interface HevcSpsOptions {
  maxSubLayersMinus1?: number;
  subLayers?: { profile: boolean; level: boolean }[];
  profileSpace?: number;
  tier?: boolean;
  profileIdc?: number;
  compat?: number;
  constraints?: number[];
  levelIdc?: number;
  chromaFormatIdc?: number;
  separateColourPlane?: boolean;
  width: number;
  height: number;
  window?: [number, number, number, number];
  bitDepth?: number;
}

/** H.265 7.3.2.2.1 up to the bit depths, then a stop bit (the parser reads no further). */
function buildSps(o: HevcSpsOptions): Buffer {
  const w = new BitWriter();
  const subs = o.maxSubLayersMinus1 ?? 0;
  w.u(4, 0).u(3, subs).flag(true);
  w.u(2, o.profileSpace ?? 0).flag(o.tier ?? false).u(5, o.profileIdc ?? 1).u(32, o.compat ?? 0x60000000);
  for (const b of o.constraints ?? [0x90, 0, 0, 0, 0, 0]) w.u(8, b);
  w.u(8, o.levelIdc ?? 93);
  const layers = o.subLayers ?? [];
  for (let i = 0; i < subs; i++) w.flag(layers[i]?.profile ?? false).flag(layers[i]?.level ?? false);
  if (subs > 0) for (let i = subs; i < 8; i++) w.u(2, 0);
  for (let i = 0; i < subs; i++) {
    // Sub-layer PTL: all-zero bytes, which the NAL escaping then has to cope with as well.
    if (layers[i]?.profile) w.u(32, 0).u(32, 0).u(24, 0);
    if (layers[i]?.level) w.u(8, 0);
  }
  const chroma = o.chromaFormatIdc ?? 1;
  w.ue(0).ue(chroma);
  if (chroma === 3) w.flag(o.separateColourPlane ?? false);
  w.ue(o.width).ue(o.height).flag(o.window !== undefined);
  for (const v of o.window ?? []) w.ue(v);
  w.ue((o.bitDepth ?? 8) - 8).ue((o.bitDepth ?? 8) - 8);
  return Buffer.concat([Buffer.from([33 << 1, 1]), escapeRbsp(w.rbsp())]);
}

function buildHvcC(arrays: { type: number; nalus: Buffer[] }[], header?: Partial<{ profileIdc: number; levelIdc: number }>): Buffer {
  const h = Buffer.alloc(23);
  h[0] = 1;
  h[1] = header?.profileIdc ?? 1;
  h.writeUInt32BE(0x60000000, 2);
  h[6] = 0x90;
  h[12] = header?.levelIdc ?? 93;
  h.writeUInt16BE(0xf000, 13);
  h[15] = 0xfc;
  h[16] = 0xfd;
  h[17] = 0xf8;
  h[18] = 0xf8;
  h[21] = 0x0f;
  h[22] = arrays.length;
  const parts: Buffer[] = [h];
  for (const a of arrays) {
    parts.push(Buffer.from([0x80 | a.type, a.nalus.length >> 8, a.nalus.length & 0xff]));
    for (const n of a.nalus) parts.push(Buffer.from([n.length >> 8, n.length & 0xff]), n);
  }
  return Buffer.concat(parts);
}

test('sub-layer profile_tier_level entries are skipped', (t) => {
  const sps = parseHevcSps(buildSps({
    maxSubLayersMinus1: 3,
    subLayers: [{ profile: true, level: true }, { profile: false, level: true }, { profile: true, level: false }],
    width: 1280, height: 720,
  }));
  t.is(sps.maxSubLayers, 4);
  t.deepEqual([sps.width, sps.height], [1280, 720]);
  t.is(sps.ptl.levelIdc, 93);
});

test('conformance window units follow the chroma format', (t) => {
  const w = [1, 2, 3, 4] as [number, number, number, number];
  const dims = (o: Partial<HevcSpsOptions>) => {
    const s = parseHevcSps(buildSps({ width: 64, height: 64, window: w, ...o }));
    return [s.width, s.height];
  };
  t.deepEqual(dims({ chromaFormatIdc: 1 }), [64 - 6, 64 - 14]);
  t.deepEqual(dims({ chromaFormatIdc: 2 }), [64 - 6, 64 - 7]);
  t.deepEqual(dims({ chromaFormatIdc: 3 }), [64 - 3, 64 - 7]);
  t.deepEqual(dims({ chromaFormatIdc: 3, separateColourPlane: true }), [64 - 3, 64 - 7]);
  t.deepEqual(dims({ chromaFormatIdc: 0 }), [64 - 3, 64 - 7]);
});

test('a hand-built record: NAL arrays grouped by type, SPS parsed, VPS/PPS/SEI kept raw', (t) => {
  const sps = buildSps({ profileIdc: 2, levelIdc: 153, tier: true, width: 3840, height: 2160, bitDepth: 10 });
  const vps = Buffer.from([0x40, 0x01, 0x0c]);
  const pps = Buffer.from([0x44, 0x01, 0xc1]);
  const sei = Buffer.from([0x4e, 0x01, 0x05]);
  const c = parseHevcDecoderConfig(buildHvcC([
    { type: 32, nalus: [vps] }, { type: 33, nalus: [sps] }, { type: 34, nalus: [pps, pps] }, { type: 39, nalus: [sei] },
  ], { profileIdc: 2, levelIdc: 153 }));
  t.deepEqual(c.vps, [vps]);
  t.deepEqual(c.pps, [pps, pps]);
  t.is(c.arrays.length, 4);
  t.true(c.arrays[0]!.completeness);
  t.is(c.profile, 'Main 10');
  t.is(c.level, '5.1');
  t.deepEqual([c.width, c.height, c.spsInfo?.bitDepthLuma], [3840, 2160, 10]);
  t.true(c.spsInfo!.ptl.tierFlag);
});

test('a record without an SPS still describes profile and level', (t) => {
  const c = parseHevcDecoderConfig(buildHvcC([]));
  t.is(c.spsInfo, undefined);
  t.is(c.width, undefined);
  t.is(c.profile, 'Main');
  t.is(c.level, '3.1');
  t.is(c.codecString, 'hvc1.1.6.L93.90');
});

test('profile names, including a profile signalled only by compatibility flags', (t) => {
  t.is(hevcProfileName(1), 'Main');
  t.is(hevcProfileName(2), 'Main 10');
  t.is(hevcProfileName(3), 'Main Still Picture');
  t.is(hevcProfileName(4), 'RExt');
  t.is(hevcProfileName(0, 1 << (31 - 2)), 'Main 10');
  t.is(hevcLevelName(93), '3.1');
  t.is(hevcLevelName(120), '4.0');
  t.is(hevcLevelName(186), '6.2');
});

test('codec strings: profile space letter, reversed compatibility bits, tier, trailing zero bytes dropped', (t) => {
  const ptl = {
    profileSpace: 1, tierFlag: true, profileIdc: 4, profileCompatibilityFlags: 0x08000000,
    constraintIndicatorFlags: Buffer.from([0x98, 0, 0x3c, 0, 0, 0]), levelIdc: 153,
  };
  t.is(hevcCodecString(ptl), 'hvc1.A4.10.H153.98.0.3C');
  t.is(hevcCodecString({ ...ptl, profileSpace: 0, tierFlag: false, profileIdc: 1, profileCompatibilityFlags: 0x60000000,
    constraintIndicatorFlags: Buffer.from([0xb0, 0, 0, 0, 0, 0]), levelIdc: 93 }), 'hvc1.1.6.L93.B0');
});

test('malformed records throw CodecConfigError naming the record and the problem', (t) => {
  const good = mp4Record('hevc-642x362-main.mp4', 'hvcC');
  const bad = (b: Buffer, re: RegExp) => t.throws(() => parseHevcDecoderConfig(b), { instanceOf: CodecConfigError, message: re });
  bad(good.subarray(0, 22), /^HEVCDecoderConfigurationRecord: 22 bytes/);
  const v2 = Buffer.from(good);
  v2[0] = 2;
  bad(v2, /configurationVersion 2/);
  bad(good.subarray(0, 40), /HEVCDecoderConfigurationRecord: (NAL #0 of array #0 declares|truncated)/);
  const len3 = Buffer.from(good);
  len3[21] = (len3[21]! & ~3) | 2;
  bad(len3, /lengthSizeMinusOne 2/);
  const spsType = buildHvcC([{ type: 33, nalus: [Buffer.from([0x44, 0x01, 0xc1])] }]);
  bad(spsType, /^HEVC SPS: NAL unit type 34/);
  t.throws(() => parseHevcSps(buildSps({ width: 0, height: 64 })), { instanceOf: CodecConfigError, message: /0x64/ });
  t.throws(() => parseHevcSps(buildSps({ width: 16, height: 16, window: [4, 4, 0, 0] })), { instanceOf: CodecConfigError });
});

test('garbage and truncated records throw only CodecConfigError', (t) => {
  const seeds = files.map((f) => mp4Record(f, 'hvcC'));
  assertOnlyCodecConfigErrors(t, parseHevcDecoderConfig, seeds);
  assertOnlyCodecConfigErrors(t, parseHevcSps, seeds.map((r) => parseHevcDecoderConfig(r).sps[0]!));
});
