import test from 'ava';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FlvProbe, probeFlvStream, type ProbeResult, type ProbeTrack } from '../core/flv/probe.js';
import { muxFlvHeader, muxTag } from '../core/flv/muxer.js';
import { FlvDemuxer } from '../core/flv/demuxer.js';
import { tempDir } from './helpers/app.js';

const run = promisify(execFile);
const FIXTURES = fileURLToPath(new URL('fixtures/', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/wsflv.js', import.meta.url));
// Not the Enhanced RTMP fixture (H.264 + Opus): ffprobe 5.1, the reference here, cannot read it.
// Enhanced RTMP fixtures (Opus, HEVC, AV1 in FLV) are left out: ffprobe 5.1 cannot read them to compare.
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.flv') && !/opus|hevc|av1/.test(f)).sort();
const fixture = (name: string) => join(FIXTURES, name);

interface Cli { code: number; stdout: string; stderr: string }

async function cli(...args: string[]): Promise<Cli> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof err.code !== 'number') throw e;
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

async function probeJson(file: string): Promise<Cli & { result: ProbeResult }> {
  const out = await cli('probe', file, '--json');
  return { ...out, result: JSON.parse(out.stdout) as ProbeResult };
}

interface FfStream { index: number; codec_type: string; codec_name: string; width?: number; height?: number; sample_rate?: string; channels?: number }
interface FfPacket { stream_index: number; codec_type: string; dts: number; flags: string; pos: string }

async function ffprobe(file: string): Promise<{ streams: FfStream[]; duration: number; packets: FfPacket[] }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file]);
  const info = JSON.parse(stdout) as { streams: FfStream[]; format: { duration: string } };
  const { stdout: p } = await run(
    'ffprobe', ['-v', 'error', '-show_packets', '-show_entries', 'packet=stream_index,codec_type,dts,flags,pos', '-of', 'json', file],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return { streams: info.streams, duration: Number(info.format.duration), packets: (JSON.parse(p) as { packets: FfPacket[] }).packets };
}

/** ffprobe codec names against ours. */
const CODEC: Record<string, string> = { h264: 'avc', hevc: 'hevc', av1: 'av1', aac: 'aac', mp3: 'mp3', opus: 'opus' };

test('the fixture set covers what the probe has to get right', (t) => {
  t.true(fixtures.length >= 5);
  t.true(fixtures.includes('h264-aac-642x362-2s.flv'), 'an odd size, for SPS cropping');
});

for (const name of fixtures) {
  test(`probe --json ${name}: agrees with ffprobe`, async (t) => {
    const [{ code, stderr, result: r }, ff] = await Promise.all([probeJson(fixture(name)), ffprobe(fixture(name))]);
    t.is(code, 0, stderr);
    t.is(stderr, '');
    t.is(r.error, null);
    t.is(r.bytes, readFileSync(fixture(name)).length, 'every byte accounted for');

    t.is(r.tracks.length, ff.streams.length);
    for (const s of ff.streams) {
      const track = r.tracks.find((x) => x.type === s.codec_type) as ProbeTrack;
      t.truthy(track, `${s.codec_type} track`);
      t.is(track.codec, CODEC[s.codec_name] as ProbeTrack['codec']);
      const packets = ff.packets.filter((p) => p.stream_index === s.index);
      // ffprobe's packets are the frames; sequence headers and end-of-sequence tags are extra tags.
      t.is(track.frames, packets.length, `${s.codec_type} frames`);
      t.true(track.tags - track.frames >= 0 && track.tags - track.frames <= 2, `${s.codec_type} tags ${track.tags}, frames ${track.frames}`);
      if (s.codec_type === 'video') {
        t.is(track.width, s.width);
        t.is(track.height, s.height);
        const keys = packets.filter((p) => p.flags.startsWith('K'));
        t.is(track.keyframes, keys.length);
        const gops = keys.slice(1).map((k, i) => k.dts - keys[i]!.dts);
        if (gops.length > 0) {
          t.like(track.gop, { count: gops.length, minMs: Math.min(...gops), maxMs: Math.max(...gops) });
        }
      } else {
        t.is(track.sampleRate, Number(s.sample_rate));
        t.is(track.channels, s.channels);
      }
      t.true(track.bitrate > 0);
    }
    const tags = { audio: 0, video: 0, script: 0 };
    for (const track of r.tracks) tags[track.type] += track.tags;
    t.like(r.tags, { audio: tags.audio, video: tags.video, total: tags.audio + tags.video + r.tags.script });
    t.is(r.keyframes, ff.packets.filter((p) => p.codec_type === 'video' && p.flags.startsWith('K')).length);

    t.true(Math.abs(r.durationMs - ff.duration * 1000) <= 100, `duration ${r.durationMs} ms, ffprobe ${ff.duration} s`);
    t.is(typeof r.metadata?.duration, 'number');
    t.deepEqual(r.anomalies, [], 'ffmpeg writes clean files');
  });
}

test('probe: the text report names the tracks, GOPs and metadata', async (t) => {
  const { code, stdout } = await cli('probe', fixture('h264-aac-360p30-10s.flv'));
  t.is(code, 0);
  t.regex(stdout, /^Header: +FLV version 1, flags: audio \+ video/m);
  t.regex(stdout, /video +avc +avc1\.4d401e +Main@3\.0 +640x360 +30 fps/);
  t.regex(stdout, /audio +aac +mp4a\.40\.2 +LC +44100 Hz +mono/);
  t.regex(stdout, /^Tags: +736 \(video 302, audio 433, script 1\)$/m);
  t.regex(stdout, /^GOP: +min 1000 \/ avg 1000 \/ max 1000 ms/m);
  t.regex(stdout, /^Anomalies: +none$/m);
  t.regex(stdout, /^ {2}width +640$/m);
});

test('probe --help, and usage errors exit 2', async (t) => {
  const help = await cli('probe', '--help');
  t.is(help.code, 0);
  t.regex(help.stdout, /^Usage: wsflv probe FILE \[--json\]/);
  t.is((await cli('probe')).code, 2);
  const overview = await cli('--help');
  t.regex(overview.stdout, /Commands:\n {2}probe /, 'listed first');
});

test('probe: a missing file and a non-FLV file exit 1', async (t) => {
  const missing = await cli('probe', join(tempDir(), 'nope.flv'));
  t.is(missing.code, 1);
  t.regex(missing.stderr, /ENOENT/);
  const json = await cli('probe', fileURLToPath(new URL('../package.json', import.meta.url)), '--json');
  t.is(json.code, 1);
  t.regex(json.stderr, /not an FLV stream.*at byte 0/);
  t.like(JSON.parse(json.stdout), { header: null, tracks: [], error: { code: 'WSFLV_ERR_FLV_SIGNATURE', offset: 0 } });
});

// ---------------------------------------------------------------------------------------------
// Damaged files

const BASE = 'h264-aac-360p30-10s.flv';
/** onMetaData plus the two sequence headers, which precede every frame in the fixture. */
const LEADING_TAGS = 3;

async function damaged(bytes: Buffer): Promise<string> {
  const file = join(tempDir(), 'damaged.flv');
  writeFileSync(file, bytes);
  return file;
}

/** A frame's tag near the given fraction of the file, by ffprobe's packet positions. */
async function frameNear(fraction: number): Promise<{ pos: number; before: number }> {
  const { packets } = await ffprobe(fixture(BASE));
  const size = readFileSync(fixture(BASE)).length;
  const i = packets.findIndex((p) => Number(p.pos) >= size * fraction);
  return { pos: Number(packets[i]!.pos), before: LEADING_TAGS + i };
}

test('damaged: truncated inside a tag body → exit 1, the offset, and everything before it', async (t) => {
  const { pos, before } = await frameNear(0.5);
  const file = await damaged(readFileSync(fixture(BASE)).subarray(0, pos + 11 + 100));
  const { code, stderr, result: r } = await probeJson(file);
  t.is(code, 1);
  t.regex(stderr, new RegExp(`stream ended inside a tag body.*at byte ${pos + 11}\\b`));
  t.like(r.error, { code: 'WSFLV_ERR_FLV_TRUNCATED', offset: pos + 11 });
  t.is(r.tags.total, before);
  t.deepEqual(r.tracks.map((x) => [x.type, x.codec, x.width, x.height, x.sampleRate, x.channels]), [
    ['video', 'avc', 640, 360, undefined, undefined],
    ['audio', 'aac', undefined, undefined, 44100, 1],
  ]);
  t.true(r.durationMs > 4000 && r.durationMs < 6000, String(r.durationMs));

  const text = await cli('probe', file);
  t.is(text.code, 1);
  t.regex(text.stdout, /640x360/);
  t.regex(text.stdout, /^Error: .*at byte \d+/m);
});

for (const [where, fraction] of [['mid-file', 0.6], ['inside the first read chunk', 0.01]] as const) {
  test(`damaged: garbage over a tag header ${where} → exit 1 at its offset, tags before it all counted`, async (t) => {
    const { pos, before } = await frameNear(fraction);
    const bytes = Buffer.from(readFileSync(fixture(BASE)));
    bytes.fill(0x5a, pos, pos + 16);
    const { code, stderr, result: r } = await probeJson(await damaged(bytes));
    t.is(code, 1);
    t.regex(stderr, new RegExp(`unknown tag type byte 0x5a.*at byte ${pos}\\b`));
    t.like(r.error, { code: 'WSFLV_ERR_FLV_TAG_HEADER', offset: pos });
    // The demuxer drops what it parsed from the chunk that failed; the probe must win those tags back.
    t.is(r.tags.total, before);
    t.deepEqual(r.tracks.map((x) => x.codec), ['avc', 'aac']);
    t.is(r.tracks[0]!.width, 640);
  });
}

test('anomalies: a header flag that lies is reported, reading goes on', async (t) => {
  const bytes = Buffer.from(readFileSync(fixture('h264-only-240p25-10s.flv')));
  bytes[4] = 0x05; // audio + video, for a file without audio
  const { code, result: r } = await probeJson(await damaged(bytes));
  t.is(code, 0);
  t.deepEqual(r.anomalies, [{ code: 'header-flags', message: 'the FLV header announces audio, but there is no audio track', offset: 4 }]);
});

test('anomalies: a wrong PreviousTagSize is reported with its offset, reading goes on', async (t) => {
  const { pos, before } = await frameNear(0.3);
  const original = readFileSync(fixture(BASE));
  const bytes = Buffer.from(original);
  bytes.writeUInt32BE(12345, pos - 4);
  const file = await damaged(bytes);

  const { code, result: r } = await probeJson(file);
  t.is(code, 0);
  t.true(r.tags.total > before);
  t.deepEqual(r.anomalies, [{ code: 'previous-tag-size', message: `PreviousTagSize is 12345, expected ${original.readUInt32BE(pos - 4)}`, offset: pos - 4 }]);
  const text = await cli('probe', file);
  t.regex(text.stdout, new RegExp(`^Anomalies: 1 \\(previous-tag-size 1\\)\\n {2}@${pos - 4} PreviousTagSize is 12345`, 'm'));
});

// ---------------------------------------------------------------------------------------------
// FlvProbe and probeFlvStream in process

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

test('probeFlvStream: the result does not depend on the chunking', async (t) => {
  const bytes = readFileSync(fixture('h264-mp3-240p25-5s.flv'));
  const whole = await probeFlvStream(chunked(bytes, bytes.length));
  t.deepEqual(await probeFlvStream(chunked(bytes, 7)), whole);
  t.deepEqual(await probeFlvStream(chunked(bytes, 65536)), whole);
});

test('probeFlvStream: recovering tags lost with a failed chunk works at any chunking', async (t) => {
  const bytes = Buffer.from(readFileSync(fixture('h264-mp3-240p25-5s.flv')));
  const reference = new FlvDemuxer().push(bytes);
  const victim = reference[120]!;
  bytes.fill(0x5a, victim.offset!, victim.offset! + 11);
  for (const size of [1, 1000, 4096, 65536, bytes.length]) {
    const r = await probeFlvStream(chunked(bytes, size));
    t.is(r.tags.total, 120, `chunks of ${size}`);
    t.is(r.error?.offset, victim.offset);
  }
});

/** An AAC packet; its offset is its dts, so that anomalies are easy to match to packets. */
const aac = (dts: number, config = false) => ({
  kind: 'audio' as const, dts, cts: 0, pts: dts, keyframe: true, config, endOfSequence: false, codec: 'aac' as const,
  body: config ? Buffer.from([0xaf, 0, 0x12, 0x10]) : Buffer.from([0xaf, 1, 0x21]), dataOffset: 2, offset: dts,
});

test('FlvProbe: timestamp regressions and gaps per track, with the tag offsets', (t) => {
  const probe = new FlvProbe();
  probe.setHeader({ version: 1, hasAudio: true, hasVideo: false, dataOffset: 9 });
  for (const p of [aac(0, true), aac(0), aac(23), aac(46), aac(3000), aac(3023), aac(1000), aac(1023)]) probe.push(p);
  const r = probe.result();
  t.deepEqual(r.anomalies, [
    { code: 'timestamp-gap', message: 'audio track 0: dts jumps 2954 ms, from 46 to 3000 ms', offset: 3000 },
    { code: 'timestamp-regression', message: 'audio track 0: dts goes back from 3023 to 1000 ms', offset: 1000 },
  ]);
  t.like(r.tracks[0], { codec: 'aac', sampleRate: 44100, channels: 2, frames: 7, tags: 8 });
  t.deepEqual(probe.result(), r, 'result() is a snapshot: asking twice changes nothing');
});

test('FlvProbe: anomaly details are bounded, the counts are not', (t) => {
  const probe = new FlvProbe({ maxAnomalies: 3 });
  probe.push(aac(0, true));
  for (let i = 0; i < 50; i++) probe.push(aac(i % 2 === 0 ? 100 : 50));
  const r = probe.result();
  t.is(r.anomalies.length, 3);
  t.is(r.anomalyCounts['timestamp-regression'], 25);
});

test('FlvProbe: frames before any sequence header, and a configuration that changes', (t) => {
  const probe = new FlvProbe();
  probe.push(aac(0));
  probe.push(aac(23, true));
  const stereo48k = { ...aac(46, true), body: Buffer.from([0xaf, 0, 0x11, 0x90]) };
  probe.push(stereo48k);
  const codes = probe.result().anomalies.map((a) => a.code);
  t.deepEqual(codes, ['missing-config', 'config-change']);
});

test('probeFlvStream: a bad header flag on a stream built by the muxer', async (t) => {
  const body = Buffer.from([0xaf, 0, 0x12, 0x10]);
  const bytes = Buffer.concat([muxFlvHeader({ audio: true, video: true }), muxTag({ kind: 'audio', dts: 0, body })]);
  const r = await probeFlvStream(chunked(bytes, 5));
  t.is(r.error, null);
  t.deepEqual(r.anomalies.map((a) => a.message), ['the FLV header announces video, but there is no video track']);
});

test('formatReport: hostile onMetaData (an invalid date, 100k keys) is reported, never a RangeError', async (t) => {
  const { formatReport } = await import('../cli/probe.js');
  const { encodeScriptData } = await import('../core/flv/amf0.js');
  const metadata: Record<string, unknown> = { creationdate: new Date(Number.NaN) };
  for (let i = 0; i < 100_000; i++) metadata[`k${i}`] = null;
  const bytes = Buffer.concat([muxFlvHeader({ audio: false, video: false }), muxTag({ kind: 'script', dts: 0, body: encodeScriptData('onMetaData', [metadata]) })]);
  const result = await probeFlvStream((async function* () {
    yield bytes;
  })());
  const text = formatReport('hostile.flv', result);
  t.regex(text, /creationdate +Invalid Date/);
  t.regex(text, /k99999 +null/);
});
