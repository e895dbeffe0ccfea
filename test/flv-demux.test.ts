import { readFileSync } from 'node:fs';
import test from 'ava';
import { FlvError } from '../core/errors.js';
import type { FlvWarning } from '../core/flv/demuxer.js';
import { muxFlvHeader, muxTag } from '../core/flv/muxer.js';
import { demuxFlv } from '../stages/flv-demux.js';
import { demuxFile, FIXTURES, run } from './helpers/packets.js';

function chunks(buffer: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += size) out.push(buffer.subarray(i, i + size));
  return out;
}

test('the operator emits the same packets as the demuxer, whatever the chunking', async (t) => {
  const bytes = readFileSync(FIXTURES.h264Aac);
  const expected = demuxFile(FIXTURES.h264Aac);
  for (const size of [1, 7, 4096, bytes.length]) {
    const out = await run(chunks(bytes, size), demuxFlv());
    t.is(out.length, expected.length);
    t.true(out.every((p, i) => p.dts === expected[i]!.dts && p.body.equals(expected[i]!.body)), `chunk size ${size}`);
  }
});

test('malformed input errors with the typed error', async (t) => {
  const error = await t.throwsAsync(run([Buffer.from('NOT AN FLV FILE')], demuxFlv()));
  t.true(error instanceof FlvError);
  t.is((error as FlvError).code, 'WSFLV_ERR_FLV_SIGNATURE');
});

test('bytes ending inside a tag error on completion', async (t) => {
  const bytes = readFileSync(FIXTURES.aacOnly).subarray(0, 500);
  const error = await t.throwsAsync(run([bytes], demuxFlv()));
  t.is((error as FlvError).code, 'WSFLV_ERR_FLV_TRUNCATED');
});

test('the size limit applies', async (t) => {
  const error = await t.throwsAsync(run([readFileSync(FIXTURES.h264Aac)], demuxFlv({ maxTagSize: 1000 })));
  t.is((error as FlvError).code, 'WSFLV_ERR_FLV_TAG_TOO_LARGE');
});

/** The fixture with a second video track: each legacy AVC tag repeated as an Enhanced RTMP OneTrack multitrack tag of track 1. */
function withSecondVideoTrack(file: string): Buffer {
  const packets = demuxFile(file);
  const tags: Buffer[] = [muxFlvHeader({ audio: true, video: true })];
  for (const p of packets) {
    tags.push(muxTag(p));
    if (p.kind !== 'video') continue;
    const frameType = p.keyframe ? 1 : 2;
    // SequenceStart carries the AVCDecoderConfigurationRecord, CodedFrames the composition time and NAL units.
    const [packetType, payload] = p.config ? [0, p.body.subarray(5)] : [1, p.body.subarray(2)];
    const body = Buffer.concat([Buffer.from([0x80 | (frameType << 4) | 6, packetType]), Buffer.from('avc1', 'latin1'), Buffer.from([1]), payload]);
    tags.push(muxTag({ kind: 'video', dts: p.dts, body }));
  }
  return Buffer.concat(tags);
}

test('a multitrack stream keeps its first video and audio track and says once which track it left out; tracks: all keeps them', async (t) => {
  const bytes = withSecondVideoTrack(FIXTURES.h264Aac);
  const expected = demuxFile(FIXTURES.h264Aac);
  const warnings: FlvWarning[] = [];
  const kept = await run(chunks(bytes, 4096), demuxFlv({ onWarning: (w) => warnings.push(w) }));
  t.is(kept.length, expected.length);
  t.true(kept.every((p, i) => p.body.equals(expected[i]!.body) && (p.trackId ?? 0) === 0));
  t.deepEqual(warnings.map((w) => [w.code, w.message]), [['track-left-out', 'video track 1 left out: only the first video track (0) of a multitrack stream is kept']]);
  const all = await run([bytes], demuxFlv({ tracks: 'all' }));
  const second = all.filter((p) => p.trackId === 1);
  t.is(second.length, expected.filter((p) => p.kind === 'video').length);
  t.true(second.every((p) => p.codec === 'avc'));
  t.is(second.filter((p) => p.config).length, 1);
});
