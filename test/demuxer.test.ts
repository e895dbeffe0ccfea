import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Amf0Error,
  FlvError,
  FlvPreviousTagSizeError,
  FlvSignatureError,
  FlvTagHeaderError,
  FlvTagTooLargeError,
  FlvTruncatedError,
  FlvUnsupportedError,
} from '../core/errors.js';
import { encodeScriptData, markEcmaArray } from '../core/flv/amf0.js';
import { FlvDemuxer, type FlvWarning } from '../core/flv/demuxer.js';
import type { MediaPacket } from '../core/media/packet.js';

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
const FIXTURES = ['h264-aac-360p30-10s.flv', 'h264-only-240p25-10s.flv', 'aac-only-10s.flv', 'h264-mp3-240p25-5s.flv'];

function demuxAll(bytes: Buffer, options?: ConstructorParameters<typeof FlvDemuxer>[0]): { d: FlvDemuxer; packets: MediaPacket[] } {
  const d = new FlvDemuxer(options);
  const packets = d.push(bytes);
  d.end();
  return { d, packets };
}

// ---------------------------------------------------------------------------------------------
// Hand-built streams

function flvHeader(flags = 0x05, dataOffset = 9, previousTagSize0 = 0): Buffer {
  const h = Buffer.alloc(dataOffset + 4);
  h.write('FLV', 0, 'latin1');
  h[3] = 1;
  h[4] = flags;
  h.writeUInt32BE(dataOffset, 5);
  h.writeUInt32BE(previousTagSize0, dataOffset);
  return h;
}

function tag(type: number, timestamp: number, body: Buffer, opts: { streamId?: number; previousTagSize?: number } = {}): Buffer {
  const t = Buffer.alloc(11 + body.length + 4);
  t[0] = type;
  t.writeUIntBE(body.length, 1, 3);
  t.writeUIntBE(timestamp & 0xffffff, 4, 3);
  t[7] = Math.floor(timestamp / 0x1000000) & 0xff;
  t.writeUIntBE(opts.streamId ?? 0, 8, 3);
  body.copy(t, 11);
  t.writeUInt32BE(opts.previousTagSize ?? 11 + body.length, 11 + body.length);
  return t;
}

const avcKey = (cts = 0) => Buffer.from([0x17, 1, (cts >> 16) & 0xff, (cts >> 8) & 0xff, cts & 0xff, 0, 0, 0, 1, 0x65]);
const aacRaw = () => Buffer.from([0xaf, 1, 0x21, 0x10]);

// ---------------------------------------------------------------------------------------------
// Fixtures

interface ProbePacket { codec_type: string; pts: number; dts: number; flags: string; pos: string }

function ffprobe(file: string): ProbePacket[] {
  const json = execFileSync('ffprobe', ['-v', 'error', '-show_packets', '-show_entries', 'packet=codec_type,pts,dts,flags,pos', '-of', 'json', file], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(json.toString()) as { packets: ProbePacket[] }).packets;
}

for (const name of FIXTURES) {
  test(`fixture ${name}: matches ffprobe packet by packet`, (t) => {
    const { d, packets } = demuxAll(readFileSync(fixture(name)));
    const probe = ffprobe(fixture(name));
    const hasVideo = name.includes('h264');
    const hasAudio = !name.includes('only') || name.startsWith('aac');
    t.deepEqual(d.header, { version: 1, hasAudio, hasVideo, dataOffset: 9 });

    // Media packets as ffprobe sees them: no sequence headers / end-of-sequence (those are extradata).
    const media = packets.filter((p) => p.kind !== 'script' && !p.config && !p.endOfSequence);
    t.is(media.length, probe.length);
    for (let i = 0; i < probe.length; i++) {
      const p = media[i]!;
      const q = probe[i]!;
      const ours = { kind: p.kind, dts: p.dts, pts: p.pts, keyframe: p.keyframe, pos: p.offset };
      const theirs = { kind: q.codec_type, dts: q.dts, pts: q.pts, keyframe: q.flags.startsWith('K'), pos: Number(q.pos) };
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
        t.deepEqual(ours, theirs, `packet ${i}`);
        return;
      }
    }
    t.is(d.bytesConsumed, readFileSync(fixture(name)).length);
    t.is(d.bufferedBytes, 0);
  });
}

test('fixture h264-aac: first tags are onMetaData and the sequence headers', (t) => {
  const { packets } = demuxAll(readFileSync(fixture('h264-aac-360p30-10s.flv')));
  const [meta, vcfg, acfg, first] = packets as [MediaPacket, MediaPacket, MediaPacket, MediaPacket];
  t.like(meta, { kind: 'script', codec: 'amf0', keyframe: true, config: false, dts: 0, dataOffset: 0, offset: 13 });
  t.is(meta.script?.name, 'onMetaData');
  const m = meta.script?.values[0] as Record<string, unknown>;
  t.is(m.width, 640);
  t.is(m.height, 360);
  t.is(m.videocodecid, 7);
  t.is(m.audiocodecid, 10);
  t.like(vcfg, { kind: 'video', codec: 'avc', config: true, keyframe: true, dataOffset: 5, cts: 0 });
  t.is(vcfg.body[vcfg.dataOffset], 1, 'avcC configurationVersion');
  t.like(acfg, { kind: 'audio', codec: 'aac', config: true, keyframe: true, dataOffset: 2 });
  t.like(first, { kind: 'video', config: false, keyframe: true, dts: 0, cts: 67, pts: 67 });

  const counts = { video: 0, audio: 0, script: 0 };
  for (const p of packets) counts[p.kind]++;
  t.deepEqual(counts, { video: 302, audio: 433, script: 1 }, '300 frames + sequence header + end of sequence');
  t.is(packets.filter((p) => p.kind === 'video' && p.keyframe && !p.config).length, 11);
  const last = packets.filter((p) => p.kind === 'video').at(-1)!;
  t.true(last.endOfSequence, 'ffmpeg closes AVC with an end-of-sequence tag');
  t.true(packets.some((p) => p.kind === 'video' && !p.keyframe && p.cts > 0), 'B-frames give composition offsets');
});

test('fixture aac-only and h264-mp3: codecs and config', (t) => {
  const aac = demuxAll(readFileSync(fixture('aac-only-10s.flv'))).packets;
  t.deepEqual(aac.slice(0, 2).map((p) => [p.kind, p.codec, p.config]), [['script', 'amf0', false], ['audio', 'aac', true]]);
  t.true(aac.every((p) => p.keyframe));
  const mp3 = demuxAll(readFileSync(fixture('h264-mp3-240p25-5s.flv'))).packets;
  const audio = mp3.filter((p) => p.kind === 'audio');
  t.true(audio.length > 0);
  t.true(audio.every((p) => p.codec === 'mp3' && !p.config && p.dataOffset === 1));
});

test('zero-copy: a body inside one chunk is a view; a split body is assembled once', (t) => {
  const bytes = readFileSync(fixture('h264-only-240p25-10s.flv'));
  const whole = new FlvDemuxer().push(bytes);
  t.true(whole.every((p) => p.body.buffer === bytes.buffer));

  const body = avcKey();
  const pooled = Buffer.concat([flvHeader(), tag(9, 0, body)]);
  // Unpooled, so "not a view of the input" can be checked by comparing ArrayBuffers.
  const stream = Buffer.allocUnsafeSlow(pooled.length);
  pooled.copy(stream);
  const d = new FlvDemuxer();
  const cut = 13 + 11 + 4;
  t.deepEqual(d.push(stream.subarray(0, cut)), []);
  t.is(d.bufferedBytes, 4);
  const [p] = d.push(stream.subarray(cut));
  t.deepEqual(p!.body, body);
  t.not(p!.body.buffer, stream.buffer);
  t.is(p!.body.length, body.length);
  t.is(d.bufferedBytes, 0);
});

// ---------------------------------------------------------------------------------------------
// Header

test('header flags and DataOffset > 9', (t) => {
  for (const [flags, hasAudio, hasVideo] of [[0x05, true, true], [0x04, true, false], [0x01, false, true], [0x00, false, false]] as const) {
    const { d } = demuxAll(flvHeader(flags));
    t.deepEqual(d.header, { version: 1, hasAudio, hasVideo, dataOffset: 9 });
  }
  const ext = flvHeader(0x01, 20);
  ext.fill(0xee, 9, 20);
  const { d, packets } = demuxAll(Buffer.concat([ext, tag(9, 5, avcKey())]));
  t.is(d.header?.dataOffset, 20);
  t.is(packets.length, 1);
  t.is(packets[0]!.offset, 24);
});

test('header errors', (t) => {
  const bad = flvHeader();
  bad.write('FLX', 0, 'latin1');
  const sig = t.throws(() => new FlvDemuxer().push(bad), { instanceOf: FlvSignatureError });
  t.regex(sig.message, /expected signature "FLV"/);
  t.is(sig.offset, 0);

  const v2 = flvHeader();
  v2[3] = 2;
  t.throws(() => new FlvDemuxer().push(v2), { instanceOf: FlvSignatureError, message: /version 2, expected 1/ });

  const small = flvHeader();
  small.writeUInt32BE(8, 5);
  t.is(t.throws(() => new FlvDemuxer().push(small), { instanceOf: FlvSignatureError, message: /DataOffset 8/ }).offset, 5);

  const huge = flvHeader();
  huge.writeUInt32BE(0xffffffff, 5);
  t.throws(() => new FlvDemuxer().push(huge), { instanceOf: FlvSignatureError, message: /DataOffset 4294967295 out of range/ });
});

test('PreviousTagSize0 must be 0 (warn by default, strict throws)', (t) => {
  const stream = flvHeader(5, 9, 7);
  const warnings: FlvWarning[] = [];
  demuxAll(stream, { onWarning: (w) => warnings.push(w) });
  t.deepEqual(warnings, [{ code: 'WSFLV_ERR_FLV_PREVIOUS_TAG_SIZE', message: 'PreviousTagSize is 7, expected 0', offset: 9 }]);
  t.throws(() => new FlvDemuxer({ previousTagSize: 'strict' }).push(stream), { instanceOf: FlvPreviousTagSizeError });
});

test('expectHeader: false starts at a tag header', (t) => {
  const { d, packets } = demuxAll(Buffer.concat([tag(9, 40, avcKey()), tag(8, 41, aacRaw())]), { expectHeader: false });
  t.is(d.header, undefined);
  t.deepEqual(packets.map((p) => [p.kind, p.dts, p.offset]), [['video', 40, 0], ['audio', 41, 25]]);
});

// ---------------------------------------------------------------------------------------------
// Tags

test('extended timestamp: the extension byte is the high byte', (t) => {
  const ts = 0x12345678;
  const { packets } = demuxAll(Buffer.concat([flvHeader(), tag(9, ts, avcKey(10)), tag(9, 0xffffffff, avcKey())]));
  t.like(packets[0], { dts: ts, cts: 10, pts: ts + 10 });
  t.is(packets[1]!.dts, 0xffffffff, 'read unsigned');
});

test('tag types: unknown and encrypted', (t) => {
  const unknown = t.throws(() => new FlvDemuxer().push(Buffer.concat([flvHeader(), tag(7, 0, avcKey())])), { instanceOf: FlvTagHeaderError });
  t.regex(unknown.message, /tag type byte 0x07, expected 8 \(audio\), 9 \(video\) or 18 \(script\)/);
  t.is(unknown.offset, 13);
  const enc = t.throws(() => new FlvDemuxer().push(Buffer.concat([flvHeader(), tag(0x20 | 9, 0, avcKey())])), { instanceOf: FlvUnsupportedError });
  t.regex(enc.message, /encrypted/);
  t.throws(() => new FlvDemuxer().push(Buffer.concat([flvHeader(), tag(0x40 | 9, 0, avcKey())])), { instanceOf: FlvTagHeaderError });
});

test('non-zero stream id is a warning', (t) => {
  const warnings: FlvWarning[] = [];
  const { packets } = demuxAll(Buffer.concat([flvHeader(), tag(8, 0, aacRaw(), { streamId: 3 })]), { onWarning: (w) => warnings.push(w) });
  t.is(packets.length, 1);
  t.deepEqual(warnings, [{ code: 'WSFLV_ERR_FLV_TAG_HEADER', message: 'tag StreamID is 3, expected 0', offset: 21 }]);
});

test('size-0 tags are skipped', (t) => {
  const { d, packets } = demuxAll(Buffer.concat([flvHeader(), tag(8, 0, Buffer.alloc(0)), tag(9, 0, Buffer.alloc(0)), tag(8, 5, aacRaw())]), {
    previousTagSize: 'strict',
  });
  t.deepEqual(packets.map((p) => [p.kind, p.dts]), [['audio', 5]]);
  t.is(d.bytesConsumed, 13 + 15 + 15 + 19);
});

test('PreviousTagSize mismatch: warn (default) continues, strict throws', (t) => {
  const stream = Buffer.concat([flvHeader(), tag(9, 0, avcKey(), { previousTagSize: 0 }), tag(8, 1, aacRaw(), { previousTagSize: 99 }), tag(8, 2, aacRaw())]);
  const warnings: FlvWarning[] = [];
  const { packets } = demuxAll(stream, { onWarning: (w) => warnings.push(w) });
  t.is(packets.length, 3);
  t.deepEqual(warnings, [
    { code: 'WSFLV_ERR_FLV_PREVIOUS_TAG_SIZE', message: 'PreviousTagSize is 0, expected 21', offset: 13 + 21 },
    { code: 'WSFLV_ERR_FLV_PREVIOUS_TAG_SIZE', message: 'PreviousTagSize is 99, expected 15', offset: 13 + 25 + 15 },
  ]);
  t.notThrows(() => demuxAll(stream), 'no listener is fine');

  const e = t.throws(() => new FlvDemuxer({ previousTagSize: 'strict' }).push(stream), { instanceOf: FlvPreviousTagSizeError });
  t.is(e.offset, 34);
  t.regex(e.message, /PreviousTagSize is 0, expected 21 \(at byte 34\)/);
  t.is(e.code, 'WSFLV_ERR_FLV_PREVIOUS_TAG_SIZE');
});

test('maxTagSize', (t) => {
  const stream = Buffer.concat([flvHeader(), tag(9, 0, Buffer.concat([avcKey(), Buffer.alloc(100)]))]);
  const e = t.throws(() => new FlvDemuxer({ maxTagSize: 64 }).push(stream), { instanceOf: FlvTagTooLargeError });
  t.is(e.size, 110);
  t.is(e.limit, 64);
  t.is(e.offset, 14);
  t.notThrows(() => new FlvDemuxer({ maxTagSize: 110 }).push(stream));
  // A huge declared size is refused at the header, before anything is buffered.
  const d = new FlvDemuxer({ maxTagSize: 1000 });
  const huge = Buffer.concat([flvHeader(), Buffer.from([9, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0])]);
  t.throws(() => d.push(huge), { instanceOf: FlvTagTooLargeError });
  t.true(d.bufferedBytes <= 1000 + 32);
  t.throws(() => new FlvDemuxer({ maxTagSize: 0x1000000 }), { instanceOf: RangeError });
});

test('script tag with broken AMF0 is an Amf0Error with the offset', (t) => {
  const good = encodeScriptData('onMetaData', [markEcmaArray({ width: 640 })]);
  const broken = good.subarray(0, good.length - 5);
  const e = t.throws(() => new FlvDemuxer().push(Buffer.concat([flvHeader(), tag(18, 0, broken)])), { instanceOf: Amf0Error });
  t.true(e instanceof FlvError);
  t.true(e.offset >= 13 + 11 && e.offset <= 13 + 11 + broken.length, `offset ${e.offset}`);
  const { packets } = demuxAll(Buffer.concat([flvHeader(), tag(18, 0, good)]));
  t.like(packets[0], { kind: 'script', codec: 'amf0', keyframe: true, config: false, dataOffset: 0, script: { name: 'onMetaData', values: [{ width: 640 }] } });
});

test('tag body errors surface from push with the stream offset', (t) => {
  const e = t.throws(() => new FlvDemuxer().push(Buffer.concat([flvHeader(), tag(9, 0, Buffer.from([0x17, 1]))])));
  t.true(e instanceof FlvError);
  t.is((e as FlvError).code, 'WSFLV_ERR_FLV_TAG_BODY');
  t.is((e as FlvError).offset, 13 + 11 + 2);
});

// ---------------------------------------------------------------------------------------------
// End of stream and errors

test('end(): fine after a tag with or without its PreviousTagSize', (t) => {
  const stream = Buffer.concat([flvHeader(), tag(9, 0, avcKey())]);
  t.notThrows(() => demuxAll(stream));
  t.notThrows(() => demuxAll(stream.subarray(0, stream.length - 4)));
  t.notThrows(() => demuxAll(flvHeader()), 'header only');
});

test('end(): truncated inside header, tag header, body or PreviousTagSize', (t) => {
  const stream = Buffer.concat([flvHeader(), tag(9, 0, avcKey())]);
  const cases: Array<[number, RegExp, number]> = [
    [0, /FLV header: expected 9 bytes, got 0/, 0],
    [5, /FLV header: expected 9 bytes, got 5/, 0],
    [9, /PreviousTagSize/, 9],
    [11, /PreviousTagSize: expected 4 bytes, got 2/, 9],
    [18, /tag header: expected 11 bytes, got 5/, 13],
    [13 + 11 + 3, /tag body: expected 10 bytes, got 3/, 24],
    [stream.length - 2, /PreviousTagSize: expected 4 bytes, got 2/, 34],
  ];
  for (const [length, re, offset] of cases) {
    const d = new FlvDemuxer();
    d.push(stream.subarray(0, length));
    const e = t.throws(() => d.end(), { instanceOf: FlvTruncatedError }, `length ${length}`);
    t.regex(e.message, re);
    t.is(e.offset, offset, `length ${length}`);
    t.is(e.code, 'WSFLV_ERR_FLV_TRUNCATED');
  }
  const ext = flvHeader(5, 30);
  const d = new FlvDemuxer();
  d.push(ext.subarray(0, 20));
  t.throws(() => d.end(), { instanceOf: FlvTruncatedError, message: /extension/ });
});

test('after an error the demuxer is dead: same error on every later call', (t) => {
  const d = new FlvDemuxer();
  const first = t.throws(() => d.push(Buffer.from('GIF89a-not-an-flv')));
  t.is(t.throws(() => d.push(flvHeader())), first);
  t.is(t.throws(() => d.push(Buffer.alloc(0))), first);
  t.is(t.throws(() => d.end()), first);

  const d2 = new FlvDemuxer();
  d2.push(flvHeader().subarray(0, 4));
  const truncated = t.throws(() => d2.end());
  t.is(t.throws(() => d2.push(flvHeader().subarray(4))), truncated);
});

test('bytesConsumed and bufferedBytes track partial units', (t) => {
  const stream = Buffer.concat([flvHeader(), tag(9, 0, avcKey())]);
  const d = new FlvDemuxer();
  d.push(stream.subarray(0, 5));
  t.deepEqual([d.bytesConsumed, d.bufferedBytes], [0, 5]);
  d.push(stream.subarray(5, 20));
  t.deepEqual([d.bytesConsumed, d.bufferedBytes], [13, 7]);
  d.push(stream.subarray(20, 30));
  t.deepEqual([d.bytesConsumed, d.bufferedBytes], [24, 6]);
  d.push(stream.subarray(30));
  t.deepEqual([d.bytesConsumed, d.bufferedBytes], [stream.length, 0]);
});
