import test from 'ava';
import { dropTracks } from '../stages/filter.js';
import { packet, run } from './helpers/packets.js';

test('drops the listed kinds, keeps order of the rest', async (t) => {
  const input = [packet('script', 0), packet('video', 0), packet('audio', 10), packet('video', 33), packet('audio', 33)];
  const out = await run(input, dropTracks(['video']));
  t.deepEqual(out.map((p) => `${p.kind}@${p.dts}`), ['script@0', 'audio@10', 'audio@33']);
  t.deepEqual((await run(input, dropTracks(['audio', 'script']))).map((p) => p.kind), ['video', 'video']);
});

test('dropping a media track rewrites onMetaData to match, and leaves the rest of it alone', async (t) => {
  const { demuxFile, FIXTURES } = await import('./helpers/packets.js');
  const { decodeScriptData } = await import('../core/flv/amf0.js');
  const input = demuxFile(FIXTURES.h264Aac);
  const original = input.find((p) => p.script?.name === 'onMetaData')!.script!.values[0] as Record<string, unknown>;
  t.is(original.audiocodecid, 10);
  const out = await run(input, dropTracks(['audio']));
  const meta = out.find((p) => p.kind === 'script')!;
  const decoded = decodeScriptData(meta.body).values[0] as Record<string, unknown>;
  t.is(decoded.hasAudio, false);
  t.is(decoded.audiocodecid, undefined);
  t.is(decoded.audiosamplerate, undefined);
  t.is(decoded.width, original.width);
  t.is(decoded.videocodecid, original.videocodecid);
  t.deepEqual(meta.script!.values[0], decoded, 'the decoded view matches the new body');
  t.true(out.every((p) => p.kind !== 'audio'));
  const untouched = await run(input, dropTracks(['script']));
  t.is(untouched.filter((p) => p.kind === 'video')[0], input.filter((p) => p.kind === 'video')[0], 'media packets pass as the same objects');
});
