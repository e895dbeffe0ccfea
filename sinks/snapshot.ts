import { inject, injectable, optional } from 'inversify';
import { Observable } from 'rxjs';
import { z } from 'zod';
import { WsflvError } from '../core/errors.js';
import type { MediaPacket } from '../core/media/packet.js';
import { METRICS, type Metrics } from '../core/metrics.js';
import type { ComponentUse } from '../core/pipeline/config.js';
import type { Component, FileProblem, SinkComponent, SinkInstance, StreamContext } from '../core/pipeline/component.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';
import { ffmpegMissing } from '../core/process/program.js';
import { jpegSize, keyframeToJpeg } from '../core/snapshot/keyframe-jpeg.js';
import { SNAPSHOTS, type SnapshotStore } from '../core/snapshot/store.js';

const options = z
  .object({
    everySeconds: z.number().min(1).max(3600).default(10).describe('how often the latest keyframe is decoded again'),
    width: z.number().int().min(16).max(3840).default(320).describe('JPEG width; the height follows the aspect ratio'),
    ffmpeg: z.string().default('ffmpeg').describe('the ffmpeg binary'),
  })
  .strict();

type Options = z.infer<typeof options>;

/**
 * Keeps a JPEG of each stream's latest keyframe: the first one at once, then a newer one every
 * `everySeconds`. The stream only hands over references to packets it already has; decoding runs in
 * an ffmpeg child, one at a time per stream, off the hot path, and a failed decode is logged and
 * counted, never a failure of the stream. The API serves it at `/api/streams/APP/STREAM/snapshot.jpg`
 * and the web page shows it as the stream's thumbnail; it goes when the stream ends.
 */
@injectable()
export class SnapshotSink implements SinkComponent<Options> {
  readonly role = 'sink';
  readonly type = 'snapshot';
  readonly description = 'Keeps a JPEG of each stream\'s latest keyframe, served by the API and shown by the web page';
  readonly consumes = MEDIA_PACKETS;
  readonly options = options;
  readonly #taken;

  constructor(
    @inject(SNAPSHOTS) @optional() private readonly store: SnapshotStore | undefined,
    @inject(METRICS) metrics: Metrics,
  ) {
    this.#taken = metrics.counter('wsflv_snapshots_total', 'Keyframes decoded to JPEG by snapshot sinks, by outcome', ['outcome']);
  }

  check(use: ComponentUse<Component>): FileProblem[] {
    const { ffmpeg } = use.options as Options;
    const missing = ffmpegMissing(this.type, ffmpeg);
    return missing ? [{ message: missing, path: ['ffmpeg'] }] : [];
  }

  create(config: Options): SinkInstance {
    const store = this.store;
    if (!store) throw new WsflvError('WSFLV_ERR_NO_SNAPSHOTS', 'snapshot: no snapshot store is loaded (the built-in modules bind one)');
    return {
      consume: (ctx: StreamContext, data$: Observable<MediaPacket>) =>
        new Observable<never>((subscriber) => {
          let config$: MediaPacket | undefined;
          let latest: MediaPacket | undefined;
          let shownDts: number | undefined;
          let inflight: Promise<void> | undefined;
          let ended = false;
          const take = () => {
            if (inflight || ended || !latest || latest.dts === shownDts) return;
            const keyframe = latest;
            inflight = keyframeToJpeg(config.ffmpeg, config$, keyframe, config.width)
              .then((jpeg) => {
                shownDts = keyframe.dts;
                this.#taken.labels('ok').inc();
                if (!ended) store.set(ctx.key, { jpeg, takenAt: Date.now(), dts: keyframe.dts, ...jpegSize(jpeg) });
              })
              .catch((error: Error) => {
                shownDts = keyframe.dts; // not the same keyframe again: wait for the next
                this.#taken.labels('failed').inc();
                ctx.logger.warn({ err: error }, 'snapshot failed');
              })
              .finally(() => {
                inflight = undefined;
              });
          };
          const timer = setInterval(take, config.everySeconds * 1000);
          const end = () => {
            ended = true;
            clearInterval(timer);
            store.delete(ctx.key);
          };
          const subscription = data$.subscribe({
            next: (packet) => {
              if (packet.kind !== 'video') return;
              if (packet.config) config$ = packet;
              else if (packet.keyframe) {
                latest = packet;
                if (shownDts === undefined) take();
              }
            },
            error: (error) => {
              end();
              subscriber.error(error);
            },
            complete: () => {
              end();
              // A decode under way finishes first, so a drain leaves no ffmpeg behind.
              void (inflight ?? Promise.resolve()).then(() => subscriber.complete());
            },
          });
          return () => {
            end();
            subscription.unsubscribe();
          };
        }),
    };
  }
}
