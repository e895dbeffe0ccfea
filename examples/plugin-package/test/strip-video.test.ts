import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MediaPacket } from 'wsflv/plugin';
import { runStage } from 'wsflv/testing';
import { stripVideo } from '../src/index.js';

function packet(kind: MediaPacket['kind'], dts: number): MediaPacket {
  return { kind, dts, cts: 0, pts: dts, keyframe: true, config: false, endOfSequence: false, codec: kind === 'audio' ? 'aac' : kind === 'video' ? 'avc' : 'amf0', body: Buffer.alloc(1), dataOffset: 0 };
}

test('strip-video keeps audio and script data, drops video and says how much', async () => {
  const input = [packet('script', 0), packet('video', 0), packet('audio', 0), packet('video', 40), packet('audio', 23)];
  const run = await runStage(stripVideo, { input });
  assert.equal(run.error, undefined);
  assert.deepEqual(run.emitted.map((p) => `${p.kind}@${p.dts}`), ['script@0', 'audio@0', 'audio@23']);
  assert.equal(run.logs.find((line) => line.msg === 'video stripped')?.dropped, 2);
});

test('keepScript: false drops script data too', async () => {
  const run = await runStage(stripVideo, { input: [packet('script', 0), packet('audio', 0)], options: { keepScript: false } });
  assert.deepEqual(run.emitted.map((p) => p.kind), ['audio']);
});

test('options are validated like the loader does', async () => {
  await assert.rejects(runStage(stripVideo, { input: [], options: { keepScript: 'yes' } }));
});
