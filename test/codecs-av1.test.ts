import test from 'ava';
import { av1LevelName, parseAv1CodecConfig, parseAv1SequenceHeader } from '../core/codecs/av1.js';
import { CodecConfigError } from '../core/errors.js';
import { assertOnlyCodecConfigErrors } from './helpers/codec-fuzz.js';
import { BitWriter, mp4Record, probe, probedFiles } from './helpers/codec-records.js';

const files = probedFiles('av1-');

test('fixture list is not empty', (t) => {
  t.true(files.length >= 3);
});

for (const file of files) {
  test(`av1C from ${file} (libaom) matches ffprobe`, (t) => {
    const c = parseAv1CodecConfig(mp4Record(file, 'av1C'));
    const p = probe(file, 'video');
    // ffprobe reports AV1 "level" as seq_level_idx.
    t.deepEqual(
      { width: c.width, height: c.height, profile: c.profile, level: c.seqLevelIdx0 },
      { width: p.width, height: p.height, profile: p.profile, level: p.level },
    );
    t.is(c.bitDepth, p.pix_fmt?.includes('10') ? 10 : 8);
    const is444 = p.pix_fmt?.startsWith('yuv444') ?? false;
    t.deepEqual([c.chromaSubsamplingX, c.chromaSubsamplingY, c.monochrome], [!is444, !is444, false]);
    t.truthy(c.sequenceHeader, 'libaom puts the sequence header in configOBUs');
    t.deepEqual([c.sequenceHeader!.seqProfile, c.sequenceHeader!.seqLevelIdx0, c.sequenceHeader!.seqTier0], [c.seqProfile, c.seqLevelIdx0, c.seqTier0]);
  });
}

test('codec strings', (t) => {
  t.is(parseAv1CodecConfig(mp4Record('av1-642x362-main.mp4', 'av1C')).codecString, 'av01.0.01M.08');
  t.is(parseAv1CodecConfig(mp4Record('av1-320x240-main10.mp4', 'av1C')).codecString, 'av01.0.00M.10');
  t.is(parseAv1CodecConfig(mp4Record('av1-256x144-high.mp4', 'av1C')).codecString, 'av01.1.00M.08');
  t.is(parseAv1CodecConfig(mp4Record('av1-642x362-main.mp4', 'av1C')).level, '2.1');
});

function av1C(opts: { profile?: number; levelIdx?: number; tier?: number; high?: boolean; twelve?: boolean; mono?: boolean }, obus: Buffer = Buffer.alloc(0)): Buffer {
  const w = new BitWriter().u(1, 1).u(7, 1).u(3, opts.profile ?? 0).u(5, opts.levelIdx ?? 8).u(1, opts.tier ?? 0)
    .flag(opts.high ?? false).flag(opts.twelve ?? false).flag(opts.mono ?? false).u(1, 1).u(1, 1).u(2, 0).u(3, 0).u(1, 0).u(4, 0);
  return Buffer.concat([w.bytes(), obus]);
}

function obu(type: number, payload: Buffer, extension = false): Buffer {
  const size: number[] = [];
  let n = payload.length;
  do {
    size.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([(type << 3) | (extension ? 4 : 0) | 2, ...(extension ? [0x08] : []), ...size]), payload]);
}

test('without configOBUs: the header fields only', (t) => {
  const c = parseAv1CodecConfig(av1C({ profile: 2, levelIdx: 13, tier: 1, high: true, twelve: true }));
  t.deepEqual([c.bitDepth, c.level, c.profile, c.width], [12, '5.1', 'Professional', undefined]);
  t.is(c.codecString, 'av01.2.13H.12');
  t.is(parseAv1CodecConfig(av1C({ profile: 0, high: true, twelve: true })).bitDepth, 10, 'twelve_bit only counts in profile 2');
});

test('sequence header with timing info, decoder model and several operating points', (t) => {
  const w = new BitWriter().u(3, 0).flag(false).flag(false);
  w.flag(true).u(32, 1001).u(32, 60000).flag(true).u(4, 0).u(5, 0b10000); // timing_info, uvlc(15)
  w.flag(true).u(5, 9).u(32, 90000).u(5, 20).u(5, 20); // decoder_model_info
  w.flag(true); // initial_display_delay_present_flag
  w.u(5, 2); // 3 operating points
  w.u(12, 0x103).u(5, 12).u(1, 1).flag(true).u(10, 5).u(10, 6).flag(false).flag(true).u(4, 3);
  w.u(12, 0x101).u(5, 4).flag(false).flag(false);
  w.u(12, 0x100).u(5, 31).u(1, 0).flag(true).u(10, 1).u(10, 2).flag(true).flag(false);
  w.u(4, 11).u(4, 10).u(12, 1919).u(11, 1079);
  const seq = w.rbsp();
  const h = parseAv1SequenceHeader(seq);
  t.deepEqual(h, { seqProfile: 0, stillPicture: false, reducedStillPictureHeader: false, seqLevelIdx0: 12, seqTier0: 1, maxFrameWidth: 1920, maxFrameHeight: 1080 });
  // An OBU with an extension header and a padding OBU come first; the sequence header is found after them.
  const c = parseAv1CodecConfig(av1C({ levelIdx: 12, tier: 1 }, Buffer.concat([obu(15, Buffer.alloc(200)), obu(1, seq, true)])));
  t.deepEqual([c.width, c.height, c.codecString], [1920, 1080, 'av01.0.12H.08']);
});

test('reduced still picture header', (t) => {
  const seq = new BitWriter().u(3, 1).flag(true).flag(true).u(5, 5).u(4, 7).u(4, 7).u(8, 99).u(8, 199).rbsp();
  const h = parseAv1SequenceHeader(seq);
  t.deepEqual([h.stillPicture, h.seqLevelIdx0, h.maxFrameWidth, h.maxFrameHeight], [true, 5, 100, 200]);
});

test('level names', (t) => {
  t.is(av1LevelName(0), '2.0');
  t.is(av1LevelName(8), '4.0');
  t.is(av1LevelName(13), '5.1');
  t.is(av1LevelName(31), undefined);
});

test('malformed records throw CodecConfigError naming the record and the problem', (t) => {
  const good = mp4Record('av1-642x362-main.mp4', 'av1C');
  const bad = (b: Buffer, re: RegExp) => t.throws(() => parseAv1CodecConfig(b), { instanceOf: CodecConfigError, message: re });
  bad(good.subarray(0, 3), /^AV1CodecConfigurationRecord: 3 bytes/);
  const noMarker = Buffer.from(good);
  noMarker[0] = 0x01;
  bad(noMarker, /marker bit/);
  const v2 = Buffer.from(good);
  v2[0] = 0x82;
  bad(v2, /version 2/);
  const p3 = Buffer.from(good);
  p3[1] = (3 << 5) | (p3[1]! & 0x1f);
  bad(p3, /seq_profile 3/);
  bad(good.subarray(0, good.length - 1), /declares \d+ bytes/);
  bad(av1C({}, Buffer.from([0x0a, 0xff, 0xff])), /truncated obu_size/);
  bad(av1C({}, Buffer.from([0x08, 0x00])), /no obu_size/);
  bad(av1C({}, Buffer.from([0x8a, 0x00])), /forbidden bit/);
  bad(av1C({}, obu(1, Buffer.from([0x00]))), /^AV1 sequence header: truncated/);
});

test('garbage and truncated records throw only CodecConfigError', (t) => {
  assertOnlyCodecConfigErrors(t, parseAv1CodecConfig, files.map((f) => mp4Record(f, 'av1C')));
});
