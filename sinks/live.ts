import { defer, finalize, Observable, Subject } from 'rxjs';
import { z } from 'zod';
import { DEFAULT_CHANNEL_SETTINGS } from '../core/live/channel.js';
import { GOP_CACHE, type GopCache } from '../core/live/gop-cache.js';
import { DEFAULT_PLAYER_LIMITS } from '../core/live/player.js';
import { PublisherRevokedError, type LiveRegistry, type PlayOptions, type PublishOptions } from '../core/live/registry.js';
import type { MediaPacket } from '../core/media/packet.js';
import type { StreamContext } from '../core/pipeline/component.js';

/**
 * The live options every play sink (ws-play, http-play) accepts. Extend it with the sink's own
 * options: `liveSinkOptions.extend({ path: ... })` stays strict.
 */
export const liveSinkOptions = z
  .object({
    maxQueueBytes: z
      .number().int().min(16 * 1024).max(1024 * 1024 * 1024)
      .default(DEFAULT_PLAYER_LIMITS.maxQueueBytes)
      .describe('bytes queued for one player before it skips ahead to the next keyframe'),
    maxQueueMs: z
      .number().int().min(100).max(600_000)
      .default(DEFAULT_PLAYER_LIMITS.maxQueueMs)
      .describe('media milliseconds queued for one player before it skips ahead to the next keyframe'),
    stallTimeoutMs: z
      .number().int().min(100).max(600_000)
      .default(DEFAULT_PLAYER_LIMITS.stallTimeoutMs)
      .describe('a player over its queue bound for longer is closed (code 4429)'),
    coalesceMs: z
      .number().int().min(0).max(1000)
      .default(DEFAULT_PLAYER_LIMITS.coalesceMs)
      .describe("gather one player's tags for up to this long into one write (0: write each tag at once); trades latency for CPU"),
    waitForPublisherMs: z
      .number().int().min(0).max(3_600_000)
      .default(0)
      .describe('how long a player may wait for a publisher that is not there yet (0: refused at once, code 4404 / HTTP 404)'),
    graceMs: z
      .number().int().min(0).max(3_600_000)
      .default(DEFAULT_CHANNEL_SETTINGS.graceMs)
      .describe('how long players stay after the publisher leaves, in case it returns (then code 4410)'),
    headerWaitMs: z
      .number().int().min(0).max(10_000)
      .default(DEFAULT_CHANNEL_SETTINGS.headerWaitMs)
      .describe('how long the FLV header may wait for every announced track to show up'),
    publisherPolicy: z
      .enum(['reject', 'takeover'])
      .default('reject')
      .describe('a second publisher on a live key is refused (code 4409), or takes the stream over'),
  })
  .strict();

export type LiveSinkOptions = z.infer<typeof liveSinkOptions>;

/** The player-side options, for `registry.play(transport, playOptions(options))`. */
export function playOptions(options: LiveSinkOptions): PlayOptions {
  const { maxQueueBytes, maxQueueMs, stallTimeoutMs, coalesceMs, waitForPublisherMs } = options;
  return { maxQueueBytes, maxQueueMs, stallTimeoutMs, coalesceMs, waitForPublisherMs };
}

/** `ctx.shared` key of the stream's feed: whichever play sink subscribes first feeds the channel. */
export const LIVE_FEED: unique symbol = Symbol('wsflv.live.feed');

/**
 * The publishing half of a play sink: feeds one stream session's packets to the registry's channel for
 * `ctx.key`, from subscription until `data$` ends (the publisher left: players get the grace period).
 *
 * Idempotent per stream session: ws-play and http-play in one pipeline both call it, and only the first
 * to subscribe feeds; the other's Observable completes when that feed does and never subscribes its own
 * `data$` (its tags would be the same). The stream's GopCache, if the gop-cache stage gave it one, is
 * taken from `ctx.shared`.
 *
 * Errors: StreamBusyError at once when the key is published and the policy is 'reject';
 * PublisherRevokedError when another publisher takes the stream over (or the server stops). Both carry
 * `closeCode`, which the runtime hands to the publish source through `session.abort`.
 */
export function feedChannel(
  registry: LiveRegistry,
  ctx: StreamContext,
  data$: Observable<MediaPacket>,
  options: Pick<LiveSinkOptions, 'graceMs' | 'headerWaitMs' | 'publisherPolicy'>,
): Observable<never> {
  return defer(() => {
    const existing = ctx.shared.get(LIVE_FEED) as Observable<never> | undefined;
    if (existing) return existing;
    const done = new Subject<never>();
    ctx.shared.set(LIVE_FEED, done.asObservable());
    const publishOptions: PublishOptions = {
      policy: options.publisherPolicy,
      graceMs: options.graceMs,
      headerWaitMs: options.headerWaitMs,
      gop: ctx.shared.get(GOP_CACHE) as GopCache | undefined,
      info: { origin: ctx.origin },
    };
    return new Observable<never>((subscriber) => {
      const publication = registry.publish(ctx.key, publishOptions);
      publication.onRevoked((code, reason) => subscriber.error(new PublisherRevokedError(code, reason)));
      const subscription = data$.subscribe({
        next: (packet) => publication.push(packet),
        error: (error: unknown) => {
          publication.end();
          subscriber.error(error);
        },
        complete: () => {
          publication.end();
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        publication.end();
      };
    }).pipe(finalize(() => done.complete()));
  });
}
