import { inject, injectable } from 'inversify';
import { Observable } from 'rxjs';
import { z } from 'zod';
import { muxTag } from '../core/flv/muxer.js';
import type { MediaPacket } from '../core/media/packet.js';
import { METRICS, type Metrics } from '../core/metrics.js';
import type { SinkComponent, SinkInstance, StreamContext } from '../core/pipeline/component.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';
import { Backoff } from '../core/relay/backoff.js';
import { openUplink, type Uplink } from '../core/relay/uplink.js';
import { expandKey } from './republish.js';

const options = z
  .object({
    url: z
      .string()
      .regex(/^(rtmps?|https?|wss?):\/\//, 'an rtmp://, rtmps://, ws(s):// or http(s):// URL')
      .describe('where each stream goes; {app}, {stream} and {key} are replaced, e.g. "rtmp://a.example/live2/{stream}"'),
    retryMinMs: z.number().int().min(100).max(600_000).default(1000).describe('first wait before reconnecting; doubles up to retryMaxMs'),
    retryMaxMs: z.number().int().min(100).max(3_600_000).default(30_000),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    maxQueueBytes: z.number().int().min(64 * 1024).max(1024 * 1024 * 1024).default(8 * 1024 * 1024).describe('bytes queued for the remote before it skips to the next keyframe'),
  })
  .strict();

type Options = z.infer<typeof options>;

/** A push connection up this long counts as having worked: its end resets the backoff. */
const STABLE_MS = 10_000;

/**
 * Forwards each stream to a remote server (YouTube-style RTMP ingest, another node-media-server,
 * SRS, or another wsflv over ws/http). A remote that refuses, drops or is down is logged and
 * retried with backoff; a slow one skips to the next keyframe past `maxQueueBytes`. Nothing that
 * happens to the remote reaches the stream: this sink never fails it.
 */
@injectable()
export class PushSink implements SinkComponent<Options> {
  readonly role = 'sink';
  readonly type = 'push';
  readonly description = 'Forwards streams to a remote RTMP, WebSocket-FLV or HTTP-FLV server, reconnecting with backoff';
  readonly consumes = MEDIA_PACKETS;
  readonly options = options;
  readonly #dropped;
  readonly #connects;

  constructor(
    @inject(METRICS) metrics: Metrics,
  ) {
    this.#dropped = metrics.counter('wsflv_push_frames_dropped_total', 'Frames a push sink skipped because its remote could not keep up or was reconnecting');
    this.#connects = metrics.counter('wsflv_push_connects_total', 'Push connections opened, by outcome', ['outcome']);
  }

  create(config: Options): SinkInstance {
    return {
      consume: (ctx: StreamContext, data$: Observable<MediaPacket>) =>
        new Observable<never>((subscriber) => {
          const url = expandKey(config.url, ctx.key);
          const logger = ctx.logger.child({ push: url.replace(/\/\/[^/@]*@/, '//***@') });
          const backoff = new Backoff(config.retryMinMs, config.retryMaxMs);
          // What a fresh connection must get before any frame: metadata and sequence headers.
          let metadata: MediaPacket | undefined;
          const configs = new Map<string, MediaPacket>();
          let uplink: Uplink | undefined;
          let connecting = false;
          let waitKeyframe = true;
          let ended = false;
          let timer: NodeJS.Timeout | undefined;
          let hasVideo = false;
          const connect = () => {
            if (ended || connecting) return;
            connecting = true;
            openUplink(url, config.timeoutMs).then(
              (link) => {
                connecting = false;
                if (ended) return link.close();
                this.#connects.labels('ok').inc();
                logger.info('pushing');
                const openedAt = Date.now();
                uplink = link;
                waitKeyframe = hasVideo;
                if (metadata) link.send(muxTag(metadata));
                for (const c of configs.values()) link.send(muxTag(c));
                link.closed.then((why) => {
                  if (uplink !== link) return;
                  uplink = undefined;
                  // Only a connection that lasted starts the waits over: a remote that accepts and
                  // then refuses at once (a WebSocket closed 4401, an RTMP publish refused late)
                  // keeps backing off instead of being hammered every retryMinMs.
                  if (Date.now() - openedAt >= STABLE_MS) backoff.reset();
                  if (!ended) retry(why);
                });
              },
              (error: Error) => {
                connecting = false;
                this.#connects.labels('failed').inc();
                retry(error.message);
              },
            );
          };
          const retry = (why: string) => {
            const wait = backoff.next();
            logger.warn({ retryInMs: wait }, `push: ${why}; retrying`);
            timer = setTimeout(connect, wait);
          };
          connect();
          const subscription = data$.subscribe({
            next: (packet) => {
              if (packet.kind === 'script' && packet.script?.name === 'onMetaData') metadata = packet;
              if (packet.config) configs.set(`${packet.kind}:${packet.trackId ?? 0}`, packet);
              if (packet.kind === 'video') hasVideo = true;
              const link = uplink;
              if (!link) return;
              if (packet.config || packet.kind === 'script') return link.send(muxTag(packet));
              if (link.queuedBytes > config.maxQueueBytes) waitKeyframe = true;
              if (waitKeyframe) {
                if (packet.kind === 'video' && packet.keyframe) waitKeyframe = false;
                else if (packet.kind === 'video' || hasVideo) {
                  this.#dropped.inc();
                  return;
                }
              }
              link.send(muxTag(packet));
            },
            error: () => finish(),
            complete: () => finish(),
          });
          const finish = () => {
            ended = true;
            clearTimeout(timer);
            uplink?.close();
            uplink = undefined;
            subscriber.complete();
          };
          return () => {
            subscription.unsubscribe();
            ended = true;
            clearTimeout(timer);
            uplink?.close();
          };
        }),
    };
  }
}
