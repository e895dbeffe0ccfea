import test from 'ava';
import { map, tap } from 'rxjs';
import { z } from 'zod';
import { defineStage, METRICS, type MediaPacket } from 'wsflv/plugin';
import { runStage } from 'wsflv/testing';
import { demuxFile, FIXTURES, packet } from './helpers/packets.js';

const options = z.object({ failAt: z.number().optional() }).strict();

const countVideo = defineStage({
  type: 'count-video',
  description: 'counts video packets, fails on demand',
  consumes: 'media-packets',
  produces: 'media-packets',
  options,
  inject: { metrics: METRICS },
  create(config, _pipeline, { metrics }) {
    const counter = metrics.counter('test_video_total', 'video packets', ['stream']);
    return (ctx) => {
      let seen = 0;
      return tap((p) => {
        if (p.kind !== 'video') return;
        seen++;
        counter.labels(ctx.key).inc();
        if (seen === config.failAt) throw new Error(`failed at ${seen}`);
        if (p.keyframe && !p.config) ctx.logger.info({ dts: p.dts }, 'keyframe');
      });
    };
  },
});

test('runStage over an FLV file returns what the stage emitted, logged and counted', async (t) => {
  const expected = demuxFile(FIXTURES.h264Aac);
  const run = await runStage(countVideo, { input: { flvFile: FIXTURES.h264Aac }, key: 'live/a' });
  t.is(run.error, undefined);
  t.is(run.emitted.length, expected.length);
  const keyframes = expected.filter((p) => p.kind === 'video' && p.keyframe && !p.config);
  t.deepEqual(run.logs.filter((l) => l.msg === 'keyframe').map((l) => l.dts), keyframes.map((p) => p.dts));
  t.regex(run.metrics, new RegExp(`test_video_total\\{stream="live/a"\\} ${expected.filter((p) => p.kind === 'video').length}\\b`));
});

test('runStage reports the error a stage ends with, and what it emitted before', async (t) => {
  const input = [packet('video', 0), packet('audio', 0), packet('video', 40), packet('video', 80)];
  const run = await runStage(countVideo, { input, options: { failAt: 2 } });
  t.is(run.error?.message, 'failed at 2');
  t.deepEqual(run.emitted.map((p) => p.dts), [0, 0]);
});

test('runStage validates options with the stage schema', async (t) => {
  await t.throwsAsync(runStage(countVideo, { input: [], options: { failAt: 'x' } }));
});

test('a stage of another kind pair is typed by its kinds', async (t) => {
  const toBytes = defineStage({ type: 'to-bytes', description: 'bodies', consumes: 'media-packets', produces: 'flv-bytes', options: z.object({}).strict(), create: () => () => map((p: MediaPacket) => p.body) });
  const run = await runStage(toBytes, { input: [packet('audio', 0, { body: Buffer.from([1, 2]) })] });
  t.true(Buffer.isBuffer(run.emitted[0]));
  t.deepEqual([...run.emitted[0]!], [1, 2]);
});
