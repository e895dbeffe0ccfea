import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { FlvTagHeaderError, FlvTagTooLargeError } from '../core/errors.js';
import { decodeScriptData, encodeScriptData } from '../core/flv/amf0.js';
import { FlvDemuxer } from '../core/flv/demuxer.js';
import { FlvMuxer, flvTimestamp, muxedTagSize, muxFlvHeader, muxMetadata, muxTag, muxTagWithHeadroom } from '../core/flv/muxer.js';
import type { MediaPacket, TrackKind } from '../core/media/packet.js';
import { FIXTURES } from './helpers/codec-records.js';

const FIXTURE_FILES = ['aac-only-10s.flv', 'h264-aac-360p30-10s.flv', 'h264-mp3-240p25-5s.flv', 'h264-only-240p25-10s.flv'];

function demuxAll(bytes: Buffer, chunk = bytes.length): { packets: MediaPacket[]; demuxer: FlvDemuxer } {
  const demuxer = new FlvDemuxer();
  const packets: MediaPacket[] = [];
  for (let i = 0; i < bytes.length; i += chunk) packets.push(...demuxer.push(bytes.subarray(i, i + chunk)));
  demuxer.end();
  return { packets, demuxer };
}

for (const file of FIXTURE_FILES) {
  test(`mux(demux(${file})) reproduces the file byte for byte`, (t) => {
    const original = readFileSync(`${FIXTURES}${file}`);
    // Odd-sized chunks so that some bodies are reassembled copies rather than views.
    const { packets, demuxer } = demuxAll(original, 4093);
    t.true(packets.length > 100);
    const m = new FlvMuxer();
    const parts = [m.header({ audio: demuxer.header!.hasAudio, video: demuxer.header!.hasVideo })];
    for (const p of packets) {
      t.is(p.offset, m.bytesWritten, 'each tag lands where the demuxer found it');
      parts.push(m.tag(p));
    }
    const remuxed = Buffer.concat(parts);
    t.is(m.bytesWritten, original.length);
    t.true(remuxed.equals(original));
  });
}

test('FLV header: signature, version, track flags, DataOffset 9, PreviousTagSize0', (t) => {
  t.deepEqual([...muxFlvHeader({ audio: true, video: true })], [0x46, 0x4c, 0x56, 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0]);
  t.is(muxFlvHeader({ audio: true, video: false })[4], 0x04);
  t.is(muxFlvHeader({ audio: false, video: true })[4], 0x01);
  t.is(muxFlvHeader({ audio: false, video: false })[4], 0x00);
});

test('tag layout: type, 24-bit size, split timestamp, stream id 0, body, PreviousTagSize', (t) => {
  const body = Buffer.from([0x27, 0x01, 0, 0, 0x21, 0xaa, 0xbb]);
  const tag = muxTag({ kind: 'video', dts: 0x12345678, body });
  t.is(tag.length, 11 + body.length + 4);
  t.deepEqual([...tag.subarray(0, 11)], [9, 0, 0, 7, 0x34, 0x56, 0x78, 0x12, 0, 0, 0]);
  t.true(tag.subarray(11, 11 + body.length).equals(body));
  t.is(tag.readUInt32BE(11 + body.length), 11 + body.length);
  t.is(muxTag({ kind: 'audio', dts: 0, body })[0], 8);
  t.is(muxTag({ kind: 'script', dts: 0, body })[0], 18);
  const big = Buffer.alloc(0x12345);
  t.deepEqual([...muxTag({ kind: 'audio', dts: 0, body: big }).subarray(1, 4)], [0x01, 0x23, 0x45]);
});

test('the tag owns a copy of the body', (t) => {
  const body = Buffer.from([0xaf, 0x01, 1, 2, 3]);
  const tag = muxTag({ kind: 'audio', dts: 5, body });
  body.fill(0);
  t.deepEqual([...tag.subarray(11, 16)], [0xaf, 0x01, 1, 2, 3]);
});

test('muxTagWithHeadroom: the same tag bytes after the headroom, in one buffer of muxedTagSize + headroom', (t) => {
  for (const size of [0, 100, 70000]) {
    const packet = { kind: 'video' as const, dts: 1234, body: Buffer.alloc(size, 7) };
    const plain = muxTag(packet);
    t.is(plain.length, muxedTagSize(size));
    for (const headroom of [0, 2, 10]) {
      const out = muxTagWithHeadroom(packet, headroom);
      t.is(out.length, headroom + plain.length);
      t.deepEqual(out.subarray(headroom), plain);
    }
  }
});

test('timestamps: rounded, negative and non-finite clamp to 0, wrap at 2^32', (t) => {
  t.is(flvTimestamp(1.4), 1);
  t.is(flvTimestamp(1.6), 2);
  t.is(flvTimestamp(-5), 0);
  t.is(flvTimestamp(-0.4), 0);
  t.is(flvTimestamp(Number.NaN), 0);
  t.is(flvTimestamp(Infinity), 0);
  t.is(flvTimestamp(2 ** 32 - 1), 2 ** 32 - 1);
  t.is(flvTimestamp(2 ** 32), 0);
  t.is(flvTimestamp(2 ** 32 + 5), 5);
  t.deepEqual([...muxTag({ kind: 'audio', dts: 2 ** 32 - 1, body: Buffer.from([0x2f]) }).subarray(4, 8)], [0xff, 0xff, 0xff, 0xff]);
  t.deepEqual([...muxTag({ kind: 'audio', dts: 0x01000000, body: Buffer.from([0x2f]) }).subarray(4, 8)], [0, 0, 0, 1]);
});

test('muxMetadata writes a plain onMetaData tag that the demuxer reads back', (t) => {
  const meta = { duration: 0, width: 1280, height: 720, videocodecid: 7, encoder: 'wsflv' };
  const tag = muxMetadata(meta, 40);
  const decoded = decodeScriptData(tag.subarray(11, tag.length - 4));
  t.is(decoded.name, 'onMetaData');
  t.is(decoded.wrapped, undefined);
  t.like(decoded.values[0] as object, meta);
  const { packets } = demuxAll(Buffer.concat([muxFlvHeader({ audio: false, video: true }), tag]));
  t.is(packets.length, 1);
  t.like(packets[0]!, { kind: 'script', dts: 40 });
  t.is(packets[0]!.script?.name, 'onMetaData');
});

test('FlvMuxer counts bytes across header, tags and metadata', (t) => {
  const m = new FlvMuxer();
  const a = m.header({ audio: true, video: false });
  const b = m.metadata({ duration: 1 });
  const c = m.tag({ kind: 'audio', dts: 0, body: Buffer.from([0xaf, 0x01, 0]) });
  t.is(m.bytesWritten, a.length + b.length + c.length);
});

test('bodies beyond 24 bits and unknown kinds are refused with typed errors', (t) => {
  const huge = Buffer.alloc(0x1000000);
  const err = t.throws(() => muxTag({ kind: 'video', dts: 0, body: huge }), { instanceOf: FlvTagTooLargeError });
  t.is(err?.code, 'WSFLV_ERR_FLV_TAG_TOO_LARGE');
  const m = new FlvMuxer();
  m.header({ audio: true, video: true });
  const at = t.throws(() => m.tag({ kind: 'video', dts: 0, body: huge }), { instanceOf: FlvTagTooLargeError });
  t.is(at?.offset, 13, 'the error names where the tag would have gone');
  t.throws(() => muxTag({ kind: 'data' as TrackKind, dts: 0, body: Buffer.alloc(1) }), { instanceOf: FlvTagHeaderError });
});

/** Bodies the demuxer accepts for their kind, covering the legacy audio/video headers and script data. */
const audioBody = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((raw) => Buffer.from([0xaf, 0x01, ...raw])), // AAC raw frame
  fc.constantFrom(Buffer.from([0xaf, 0x00, 0x11, 0x90])), // AAC sequence header
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((raw) => Buffer.from([0x2f, ...raw])), // MP3
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((raw) => Buffer.from([0x3e, ...raw])), // PCM little-endian
);
const videoBody = fc.oneof(
  fc.tuple(fc.boolean(), fc.integer({ min: -(2 ** 23), max: 2 ** 23 - 1 }), fc.uint8Array({ maxLength: 300 })).map(([key, cts, nalus]) => {
    const b = Buffer.alloc(5 + nalus.length);
    b[0] = key ? 0x17 : 0x27;
    b[1] = 0x01;
    b.writeIntBE(cts, 2, 3);
    b.set(nalus, 5);
    return b;
  }),
  fc.constantFrom(Buffer.from([0x17, 0x02, 0, 0, 0])), // AVC end of sequence
  fc.uint8Array({ minLength: 5, maxLength: 40 }).map((rec) => Buffer.from([0x17, 0x00, 0, 0, 0, ...rec])), // AVC sequence header
);
const amfValue = fc.oneof(
  fc.double({ noNaN: true }),
  fc.string(),
  fc.boolean(),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.double({ noNaN: true }), fc.string(), fc.boolean()), { maxKeys: 5 }),
);
const scriptBody = fc.tuple(fc.string({ maxLength: 20 }), fc.array(amfValue, { maxLength: 4 })).map(([name, values]) => encodeScriptData(name, values));

const arbPacket = fc.tuple(
  fc.oneof(
    audioBody.map((body) => ({ kind: 'audio' as const, body })),
    videoBody.map((body) => ({ kind: 'video' as const, body })),
    scriptBody.map((body) => ({ kind: 'script' as const, body })),
  ),
  fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 0xffffff }), fc.integer({ min: 0xfffff0, max: 0x1000010 })),
).map(([p, dts]) => ({ ...p, dts }));

test('demux(mux(packets)) gives the packets back (property)', (t) => {
  fc.assert(
    fc.property(fc.array(arbPacket, { maxLength: 30 }), fc.integer({ min: 1, max: 512 }), (input, chunk) => {
      const bytes = Buffer.concat([muxFlvHeader({ audio: true, video: true }), ...input.map((p) => muxTag(p))]);
      const { packets } = demuxAll(bytes, chunk);
      if (packets.length !== input.length) return false;
      return packets.every((p, i) => {
        const want = input[i]!;
        if (p.kind !== want.kind || p.dts !== want.dts || !p.body.equals(want.body)) return false;
        // The AVC composition time offset survives the trip through the body too.
        if (p.kind === 'video' && want.body[1] === 1 && p.cts !== want.body.readIntBE(2, 3)) return false;
        return true;
      });
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('extended timestamps round trip through the demuxer', (t) => {
  const dtss = [0, 0xffffff, 0x1000000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
  const bytes = Buffer.concat([
    muxFlvHeader({ audio: true, video: false }),
    ...dtss.map((dts) => muxTag({ kind: 'audio', dts, body: Buffer.from([0xaf, 0x01, 0x21]) })),
  ]);
  t.deepEqual(demuxAll(bytes).packets.map((p) => p.dts), dtss);
});
