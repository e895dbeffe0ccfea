import { inject, injectable } from 'inversify';
import { pipe, tap } from 'rxjs';
import { z } from 'zod';
import { transcodeArgs } from '../core/ffmpeg/transcode-args.js';
import { throughFfmpeg } from '../core/ffmpeg/through-ffmpeg.js';
import { METRICS, type Metrics } from '../core/metrics.js';
import type { ComponentUse } from '../core/pipeline/config.js';
import type { Component, FileProblem, StageComponent, StreamContext } from '../core/pipeline/component.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';
import { ffmpegMissing } from '../core/process/program.js';

const video = z
  .object({
    codec: z.enum(['copy', 'h264']).default('copy'),
    width: z.number().int().min(16).max(8192).optional().describe('output width; the height follows the aspect ratio when only one is given'),
    height: z.number().int().min(16).max(8192).optional(),
    fps: z.number().min(1).max(240).optional(),
    bitrateKbps: z.number().int().min(16).max(200_000).optional(),
    gopSeconds: z.number().min(0.1).max(60).default(2).describe('a keyframe every this many seconds (what a late joiner waits for at most)'),
    preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow']).default('veryfast'),
    tune: z.enum(['zerolatency', 'film', 'animation', 'none']).default('zerolatency').describe('x264 tune; zerolatency has no B-frames and no lookahead'),
  })
  .strict();

const audio = z
  .object({
    codec: z.enum(['copy', 'aac', 'opus']).default('copy'),
    bitrateKbps: z.number().int().min(8).max(1024).optional(),
    sampleRate: z.union([z.literal(8000), z.literal(16000), z.literal(22050), z.literal(24000), z.literal(32000), z.literal(44100), z.literal(48000)]).optional(),
    channels: z.number().int().min(1).max(8).optional(),
  })
  .strict();

const options = z
  .object({
    video: video.default({}),
    audio: audio.default({}),
    args: z.array(z.string()).default([]).describe('more ffmpeg output arguments, placed before the output'),
    ffmpeg: z.string().default('ffmpeg').describe('the ffmpeg binary'),
    maxQueueBytes: z.number().int().min(65_536).max(1 << 30).default(8 << 20).describe('bytes waiting for ffmpeg before frames are dropped to the next keyframe'),
    stallTimeoutMs: z.number().int().min(500).max(600_000).default(15_000).describe('ffmpeg writing nothing for this long while input comes fails the stream'),
  })
  .strict();

type Options = z.infer<typeof options>;

/**
 * Re-encodes each stream with one ffmpeg child per stream: size, frame rate, bitrate, GOP, audio codec.
 * Timestamps stay the input's, onMetaData says what the output now carries, and the child ends with
 * the stream. A file job is paced by ffmpeg (its source waits); a live stream ffmpeg cannot keep up
 * with drops frames to the next keyframe (counted in `wsflv_transcode_frames_dropped_total`), never
 * queues without bound. ffmpeg dying, stalling or
 * writing garbage fails that stream (or that sink's branch) with `TranscodeError`; others go on.
 */
@injectable()
export class TranscodeStage implements StageComponent<Options> {
  readonly role = 'stage';
  readonly type = 'transcode';
  readonly description = 'Re-encodes each stream with ffmpeg (size, frame rate, bitrate, GOP, audio codec), timestamps kept';
  readonly consumes = MEDIA_PACKETS;
  readonly produces = MEDIA_PACKETS;
  readonly options = options;
  readonly #dropped;
  readonly #streams;

  constructor(@inject(METRICS) metrics: Metrics) {
    this.#dropped = metrics.counter('wsflv_transcode_frames_dropped_total', 'Frames a transcode stage dropped because its ffmpeg could not keep up', ['pipeline']);
    this.#streams = metrics.counter('wsflv_transcode_streams_total', 'Streams a transcode stage ran ffmpeg for, by outcome', ['pipeline', 'outcome']);
  }

  check(use: ComponentUse<Component>): FileProblem[] {
    const config = use.options as Options;
    const problems: FileProblem[] = [];
    const missing = ffmpegMissing(this.type, config.ffmpeg);
    if (missing) problems.push({ message: missing, path: ['ffmpeg'] });
    if (config.audio.codec === 'opus') {
      problems.push({ message: 'transcode: audio codec opus cannot be written: the output is FLV, and ffmpeg 5.1 writes Opus only outside FLV; use aac', path: ['audio', 'codec'] });
    }
    return problems;
  }

  create(config: Options, pipeline: string) {
    const { tune, ...videoRest } = config.video;
    const videoOut = { ...videoRest, ...(tune === 'none' ? {} : { tune }) };
    return (ctx: StreamContext) => {
      return pipe(
        throughFfmpeg({
          ffmpeg: config.ffmpeg,
          args: (input) => transcodeArgs({ video: videoOut, audio: config.audio, args: config.args, input }),
          logger: ctx.logger,
          maxQueueBytes: config.maxQueueBytes,
          stallTimeoutMs: config.stallTimeoutMs,
          onDropped: (frames) => this.#dropped.labels(pipeline).inc(frames),
          hold: (until) => ctx.hold(until),
        }),
        tap({
          error: (error: Error) => {
            this.#streams.labels(pipeline, 'failed').inc();
            ctx.logger.warn({ err: error }, 'transcode failed');
          },
          complete: () => this.#streams.labels(pipeline, 'ended').inc(),
        }),
      );
    };
  }
}
