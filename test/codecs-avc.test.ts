import test from 'ava';
import { avcLevelName, avcProfileName, parseAvcDecoderConfig, parseAvcSps } from '../core/codecs/avc.js';
import { BitReader } from '../core/codecs/bit-reader.js';
import { CodecConfigError } from '../core/errors.js';
import { assertOnlyCodecConfigErrors } from './helpers/codec-fuzz.js';
import { BitWriter, escapeRbsp, flvConfigRecords, mp4Record, probe, probedFiles } from './helpers/codec-records.js';

const mp4Files = probedFiles('avc-');
const flvFiles = probedFiles('h264-');

function expectMatchesProbe(t: import('ava').ExecutionContext, record: Buffer, file: string) {
  const c = parseAvcDecoderConfig(record);
  const p = probe(file, 'video');
  t.deepEqual(
    { width: c.width, height: c.height, profile: c.profile, level: c.spsInfo.levelIdc },
    { width: p.width, height: p.height, profile: p.profile, level: p.level },
    file,
  );
  t.is(c.level, `${Math.floor(p.level! / 10)}.${p.level! % 10}`, `${file} level`);
  const depth = p.pix_fmt?.includes('10') ? 10 : 8;
  t.is(c.spsInfo.bitDepthLuma, depth, `${file} bit depth`);
  const chroma = p.pix_fmt?.startsWith('yuv444') ? 3 : p.pix_fmt?.startsWith('yuv422') ? 2 : 1;
  t.is(c.spsInfo.chromaFormatIdc, chroma, `${file} chroma format`);
  return c;
}

test('fixture list is not empty', (t) => {
  t.true(mp4Files.length >= 6);
  t.true(flvFiles.length >= 3);
});

for (const file of mp4Files) {
  test(`avcC from ${file} matches ffprobe`, (t) => {
    const record = mp4Record(file, 'avcC');
    const c = expectMatchesProbe(t, record, file);
    t.is(c.version, 1);
    t.is(c.nalLengthSize, 4);
    t.is(c.sps.length, 1);
    t.is(c.pps.length, 1);
    t.is(c.sps[0]![0]! & 0x1f, 7);
    t.is(c.pps[0]![0]! & 0x1f, 8);
    // The record's own profile/compat/level bytes copy the SPS's, and the codec string spells them.
    t.is(c.codecString, `avc1.${record.subarray(1, 4).toString('hex')}`);
  });
}

for (const file of flvFiles) {
  test(`avcC from the first video tag of ${file} matches ffprobe`, (t) => {
    const { avcC } = flvConfigRecords(file);
    t.truthy(avcC);
    expectMatchesProbe(t, avcC!, file);
  });
}

test('1920x1080 is 1088 coded lines with frame_crop_bottom_offset 4 (2-line chroma units)', (t) => {
  const c = parseAvcDecoderConfig(mp4Record('avc-1920x1080-high.mp4', 'avcC'));
  t.is(c.spsInfo.codedHeight, 1088);
  t.deepEqual(c.spsInfo.crop, { left: 0, right: 0, top: 0, bottom: 4 });
  t.is(c.codecString, 'avc1.640028');
  t.is(c.level, '4.0');
  t.deepEqual(c.ext && { ...c.ext, spsExt: c.ext.spsExt.length }, { chromaFormat: 1, bitDepthLuma: 8, bitDepthChroma: 8, spsExt: 0 });
});

test('odd sizes crop on both axes; 4:4:4 crops in single samples', (t) => {
  const c420 = parseAvcDecoderConfig(mp4Record('avc-642x362-baseline.mp4', 'avcC'));
  t.deepEqual([c420.spsInfo.codedWidth, c420.spsInfo.codedHeight], [656, 368]);
  t.deepEqual(c420.spsInfo.crop, { left: 0, right: 7, top: 0, bottom: 3 });
  t.is(c420.codecString, 'avc1.42c01e');
  const c444 = parseAvcDecoderConfig(mp4Record('avc-642x362-high444.mp4', 'avcC'));
  t.deepEqual(c444.spsInfo.crop, { left: 0, right: 14, top: 0, bottom: 6 });
});

test('interlaced: frame_mbs_only 0 doubles map units and crop units', (t) => {
  const c = parseAvcDecoderConfig(mp4Record('avc-640x360-interlaced.mp4', 'avcC'));
  t.false(c.spsInfo.frameMbsOnly);
  t.is(c.spsInfo.codedHeight, 384);
  t.is(c.spsInfo.crop.bottom, 6); // 6 * 2 (chroma) * 2 (fields) = 24 lines
});

test('4:2:2 with custom quantisation matrices', (t) => {
  const c = parseAvcDecoderConfig(mp4Record('avc-322x242-high422-cqm.mp4', 'avcC'));
  // x264 signals custom matrices in the PPS, leaving the SPS flag clear: SPS scaling lists are
  // covered by the hand-built SPS tests below.
  const r = new BitReader(c.sps[0]!.subarray(1));
  r.u(24);
  t.deepEqual([r.ue(), r.ue(), r.ue(), r.ue(), r.flag(), r.flag()], [0, 2, 0, 0, false, false]);
  t.is(c.spsInfo.chromaFormatIdc, 2);
  t.deepEqual([c.width, c.height], [322, 242]);
  // 4:2:2 chroma: crop units are 2 across and 1 down.
  t.deepEqual(c.spsInfo.crop, { left: 0, right: 7, top: 0, bottom: 14 });
});

interface SpsOptions {
  profileIdc?: number;
  constraints?: number;
  levelIdc?: number;
  chromaFormatIdc?: number;
  separateColourPlane?: boolean;
  bitDepth?: number;
  scalingLists?: (number[] | null)[];
  pocType?: number;
  offsetForNonRefPic?: number;
  refOffsets?: number[];
  widthMbs: number;
  heightMapUnits: number;
  frameMbsOnly?: boolean;
  crop?: [number, number, number, number];
}

/** H.264 7.3.2.1.1 written field by field; the fixtures cover what x264 emits, this covers the rest. */
function buildSps(o: SpsOptions): { rbsp: Buffer; nal: Buffer } {
  const w = new BitWriter();
  w.u(8, o.profileIdc ?? 100).u(8, o.constraints ?? 0).u(8, o.levelIdc ?? 31).ue(0);
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(o.profileIdc ?? 100)) {
    const chroma = o.chromaFormatIdc ?? 1;
    w.ue(chroma);
    if (chroma === 3) w.flag(o.separateColourPlane ?? false);
    w.ue((o.bitDepth ?? 8) - 8).ue((o.bitDepth ?? 8) - 8).flag(false);
    w.flag(o.scalingLists !== undefined);
    for (const [i, list] of (o.scalingLists ?? []).entries()) {
      w.flag(list !== null);
      if (!list) continue;
      let last = 8;
      for (const v of list) {
        let d = v - last;
        if (d > 127) d -= 256;
        if (d < -128) d += 256;
        w.se(d);
        if (v === 0) break;
        last = v;
      }
      assertListSize(i, list);
    }
  }
  w.ue(0); // log2_max_frame_num_minus4
  const poc = o.pocType ?? 0;
  w.ue(poc);
  if (poc === 0) w.ue(2);
  if (poc === 1) {
    w.flag(false).se(o.offsetForNonRefPic ?? 0).se(0).ue(o.refOffsets?.length ?? 0);
    for (const r of o.refOffsets ?? []) w.se(r);
  }
  w.ue(4).flag(false).ue(o.widthMbs - 1).ue(o.heightMapUnits - 1);
  const fmo = o.frameMbsOnly ?? true;
  w.flag(fmo);
  if (!fmo) w.flag(false);
  w.flag(true);
  w.flag(o.crop !== undefined);
  for (const c of o.crop ?? []) w.ue(c);
  w.flag(false); // vui_parameters_present_flag
  const rbsp = w.rbsp();
  return { rbsp, nal: Buffer.concat([Buffer.from([0x67]), escapeRbsp(rbsp)]) };
}

function assertListSize(i: number, list: number[]) {
  // Lists may stop early with a 0 (use the default matrix); otherwise they carry every coefficient.
  if (!list.includes(0) && list.length !== (i < 6 ? 16 : 64)) throw new Error(`scaling list ${i} has ${list.length} entries`);
}

function record(...spsNals: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from([1, spsNals[0]![1]!, spsNals[0]![2]!, spsNals[0]![3]!, 0xff, 0xe0 | spsNals.length])];
  for (const s of spsNals) parts.push(Buffer.from([s.length >> 8, s.length & 0xff]), s);
  parts.push(Buffer.from([1, 0, 2, 0x68, 0xce]));
  return Buffer.concat(parts);
}

test('emulation prevention bytes before the size fields are removed', (t) => {
  // offset_for_non_ref_pic = -2^30 is coded with 31 leading zeros: the encoder has to escape it.
  const { rbsp, nal } = buildSps({ pocType: 1, offsetForNonRefPic: -(2 ** 30), refOffsets: [3, -3], widthMbs: 80, heightMapUnits: 45 });
  t.true(nal.length > rbsp.length + 1, 'the SPS contains 00 00 03');
  const escapeAt = nal.indexOf(Buffer.from([0, 0, 3]));
  t.true(escapeAt > 0 && escapeAt < 12, 'the escape sits before pic_width_in_mbs_minus1');
  const sps = parseAvcSps(nal);
  t.deepEqual([sps.width, sps.height], [1280, 720]);
  // Read naively, the escaped bytes would shift every field after the 03 by 8 bits.
  const naive = new BitReader(nal.subarray(1), 'naive');
  naive.u(24);
  for (let i = 0; i < 3; i++) naive.ue();
  naive.skip(1);
  t.not(naive.se(), -(2 ** 30));
});

test('scaling lists of all 12 kinds in 4:4:4 are skipped, including lists that fall back to the default', (t) => {
  const flat16 = Array.from({ length: 16 }, (_, i) => 4 + i * 13);
  const flat64 = Array.from({ length: 64 }, (_, i) => 255 - i * 3);
  const lists = [flat16, [0], null, flat16, flat16, [20, 0], flat64, [0], flat64, null, [9, 200, 0], flat64];
  const { nal } = buildSps({ profileIdc: 244, chromaFormatIdc: 3, scalingLists: lists, widthMbs: 41, heightMapUnits: 23, crop: [1, 2, 3, 4] });
  const sps = parseAvcSps(nal);
  t.deepEqual([sps.width, sps.height], [656 - 3, 368 - 7]);
  t.is(sps.chromaFormatIdc, 3);
});

test('a 4:2:0 SPS carries 8 scaling list flags, all falling back to the defaults here', (t) => {
  const lists = [[0], [0], [0], [0], [0], [0], [0], [0]];
  const sps = parseAvcSps(buildSps({ profileIdc: 100, scalingLists: lists, widthMbs: 20, heightMapUnits: 15, crop: [0, 0, 0, 0] }).nal);
  t.deepEqual([sps.width, sps.height], [320, 240]);
});

test('crop units: monochrome, separate colour planes, 4:2:2 interlaced', (t) => {
  const mono = parseAvcSps(buildSps({ chromaFormatIdc: 0, widthMbs: 10, heightMapUnits: 10, crop: [1, 1, 1, 1] }).nal);
  t.deepEqual([mono.width, mono.height], [158, 158]);
  const monoField = parseAvcSps(buildSps({ chromaFormatIdc: 0, frameMbsOnly: false, widthMbs: 10, heightMapUnits: 5, crop: [1, 1, 1, 1] }).nal);
  t.deepEqual([monoField.width, monoField.height], [158, 156]);
  const planes = parseAvcSps(buildSps({ profileIdc: 244, chromaFormatIdc: 3, separateColourPlane: true, widthMbs: 10, heightMapUnits: 10, crop: [1, 0, 0, 1] }).nal);
  t.true(planes.separateColourPlane);
  t.deepEqual([planes.width, planes.height], [159, 159]);
  const i422 = parseAvcSps(buildSps({ profileIdc: 122, chromaFormatIdc: 2, frameMbsOnly: false, widthMbs: 45, heightMapUnits: 18, crop: [0, 0, 0, 2] }).nal);
  t.deepEqual([i422.width, i422.height], [720, 576 - 4]);
});

test('profile and level names', (t) => {
  t.is(avcProfileName(66, 0x40), 'Constrained Baseline');
  t.is(avcProfileName(66, 0x80), 'Baseline');
  t.is(avcProfileName(77, 0), 'Main');
  t.is(avcProfileName(88, 0), 'Extended');
  t.is(avcProfileName(100, 0), 'High');
  t.is(avcProfileName(110, 0), 'High 10');
  t.is(avcProfileName(110, 0x10), 'High 10 Intra');
  t.is(avcProfileName(122, 0), 'High 4:2:2');
  t.is(avcProfileName(244, 0), 'High 4:4:4 Predictive');
  t.is(avcLevelName(31, 100, 0), '3.1');
  t.is(avcLevelName(30, 100, 0), '3.0');
  t.is(avcLevelName(51, 100, 0), '5.1');
  t.is(avcLevelName(11, 66, 0x10), '1b');
  t.is(avcLevelName(11, 100, 0x10), '1.1');
  t.is(avcLevelName(9, 100, 0), '1b');
});

test('POC type 2 and the level/profile taken from the SPS', (t) => {
  const { nal } = buildSps({ profileIdc: 88, constraints: 0x10, levelIdc: 11, pocType: 2, widthMbs: 11, heightMapUnits: 9 });
  const c = parseAvcDecoderConfig(record(nal));
  t.is(c.profile, 'Extended');
  t.is(c.level, '1b');
  t.is(c.codecString, 'avc1.58100b');
  t.deepEqual([c.width, c.height], [176, 144]);
});

test('malformed records throw CodecConfigError naming the record and the problem', (t) => {
  const good = mp4Record('avc-642x362-baseline.mp4', 'avcC');
  const bad = (b: Buffer, re: RegExp) => {
    const err = t.throws(() => parseAvcDecoderConfig(b), { instanceOf: CodecConfigError, message: re });
    t.is(err?.code, 'WSFLV_ERR_CODEC_CONFIG');
  };
  bad(Buffer.alloc(0), /^AVCDecoderConfigurationRecord: 0 bytes/);
  const v0 = Buffer.from(good);
  v0[0] = 0;
  bad(v0, /configurationVersion 0/);
  bad(good.subarray(0, 12), /SPS #0 declares \d+ bytes/);
  const noSps = Buffer.from(good);
  noSps[5] = 0xe0;
  bad(noSps, /no SPS/);
  const len3 = Buffer.from(good);
  len3[4] = 0xfe;
  bad(len3, /lengthSizeMinusOne 2/);
  const notSps = Buffer.from(good);
  notSps[8] = 0x68;
  bad(notSps, /^AVC SPS: NAL unit type 8/);
  const tooMuchCrop = buildSps({ widthMbs: 2, heightMapUnits: 2, crop: [8, 8, 0, 0] }).nal;
  t.throws(() => parseAvcSps(tooMuchCrop), { instanceOf: CodecConfigError, message: /cropping leaves 0x32/ });
});

test('garbage and truncated records throw only CodecConfigError', (t) => {
  const seeds = mp4Files.map((f) => mp4Record(f, 'avcC'));
  assertOnlyCodecConfigErrors(t, parseAvcDecoderConfig, seeds);
  assertOnlyCodecConfigErrors(t, parseAvcSps, seeds.map((r) => parseAvcDecoderConfig(r).sps[0]!));
});
