import test from 'ava';
import { correctTimestamps } from '../stages/timestamps.js';
import { demuxFile, FIXTURES, packet, run } from './helpers/packets.js';

const dts = (ps: { dts: number }[]) => ps.map((p) => p.dts);

test('full: starts at 0 and keeps regular spacing', async (t) => {
  const out = await run([1000, 1033, 1066, 1100].map((d) => packet('video', d)), correctTimestamps({ mode: 'full' }));
  t.deepEqual(dts(out), [0, 33, 66, 100]);
});

test('full: a step back is closed up to one frame interval, and stays monotonic after', async (t) => {
  const out = await run([0, 33, 66, 99, 5, 38].map((d) => packet('video', d)), correctTimestamps({ mode: 'full' }));
  t.deepEqual(dts(out), [0, 33, 66, 99, 132, 165]);
});

test('full: a forward jump past maxJumpMs is smoothed; smaller gaps are kept', async (t) => {
  const out = await run([0, 40, 80, 900, 20_000, 20_040].map((d) => packet('audio', d)), correctTimestamps({ mode: 'full', maxJumpMs: 1000 }));
  t.deepEqual(dts(out).slice(0, 4), [0, 40, 80, 900]);
  t.true(out[4]!.dts > 900 && out[4]!.dts < 1100, `jump smoothed: ${out[4]!.dts}`);
  t.is(out[5]!.dts - out[4]!.dts, 40);
});

test('full: one offset for all tracks keeps audio and video in sync across a discontinuity', async (t) => {
  const input = [packet('video', 5000), packet('audio', 5010), packet('video', 5033), packet('audio', 5033), packet('video', 100), packet('audio', 110)];
  const out = await run(input, correctTimestamps({ mode: 'full' }));
  t.deepEqual(dts(out).slice(0, 4), [0, 10, 33, 33]);
  // The video resync moves the shared offset; the audio after it keeps its 10 ms lead.
  t.is(out[5]!.dts - out[4]!.dts, 10);
  t.true(out[4]!.dts > 33);
});

test('full: pts follows dts with the composition offset kept', async (t) => {
  const [p] = await run([packet('video', 500, { cts: 66, pts: 566 })], correctTimestamps({ mode: 'full' }));
  t.is(p!.dts, 0);
  t.is(p!.pts, 66);
});

test('zero: only shifts to 0, clamping negatives', async (t) => {
  const out = await run([100, 150, 50, 200].map((d) => packet('audio', d)), correctTimestamps({ mode: 'zero' }));
  t.deepEqual(dts(out), [0, 50, 0, 100]);
});

test('off: untouched, the same objects', async (t) => {
  const input = [packet('audio', 100), packet('video', 50)];
  const out = await run(input, correctTimestamps({ mode: 'off' }));
  t.is(out[0], input[0]);
  t.deepEqual(dts(out), [100, 50]);
});

test('full on a real file: monotonic per track, starting at 0', async (t) => {
  const out = await run(demuxFile(FIXTURES.h264Aac), correctTimestamps({ mode: 'full' }));
  t.is(out[0]!.dts, 0);
  for (const kind of ['audio', 'video'] as const) {
    const track = dts(out.filter((p) => p.kind === kind));
    t.true(track.every((d, i) => i === 0 || d >= track[i - 1]!), `${kind} monotonic`);
  }
});
