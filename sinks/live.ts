import { defer, finalize, Observable, Subject } from 'rxjs';
import { z } from 'zod';
import { DEFAULT_CHANNEL_SETTINGS } from '../core/live/channel.js';
import { DEFAULT_GOP_BOUNDS, GopCache, type GopBounds } from '../core/live/gop-cache.js';
import { DEFAULT_PLAYER_LIMITS } from '../core/live/player.js';
import type { LiveRegistry, PlayOptions, PublicationOptions } from '../core/live/registry.js';
import { PublisherRevokedError } from '../core/live/close.js';
import type { MediaPacket } from '../core/media/packet.js';
import type { StreamContext } from '../core/pipeline/component.js';
import { StreamError } from '../core/pipeline/stream-error.js';

/** The GOP cache bounds of a play sink's `gop` option. */
export const gopOption = z
  .union([
    z.literal(false),
    z
      .object({
        maxFrames: z.number().int().min(1).max(100_000).default(DEFAULT_GOP_BOUNDS.maxFrames).describe('most tags (audio and video) kept from the last keyframe'),
        maxBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(DEFAULT_GOP_BOUNDS.maxBytes).describe('most FLV bytes kept from the last keyframe'),
        maxMs: z.number().int().min(1).max(120_000).default(DEFAULT_GOP_BOUNDS.maxMs).describe('most media milliseconds kept from the last keyframe'),
      })
      .strict(),
  ])
  .default({})
  .describe('late joiners start at once from the last keyframe, from a cache this big (false: they wait for the next keyframe)');

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
    coalesce: z
      .enum(['adaptive', 'fixed'])
      .default(DEFAULT_PLAYER_LIMITS.coalesce)
      .describe('adaptive: no window while writes are a small share of the time, growing to coalesceMs as the write load grows; fixed: always coalesceMs'),
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
    gop: gopOption,
  })
  .strict();

/** The options that shape the stream's feed rather than one player: two play sinks feeding one key must agree on them. */
export const FEED_OPTIONS = ['graceMs', 'headerWaitMs', 'publisherPolicy', 'gop'] as const;

export type LiveSinkOptions = z.infer<typeof liveSinkOptions>;

/** The player-side options, for `registry.play(transport, playOptions(options))`. */
export function playOptions(options: LiveSinkOptions): PlayOptions {
  const { maxQueueBytes, maxQueueMs, stallTimeoutMs, coalesceMs, coalesce, waitForPublisherMs } = options;
  return { maxQueueBytes, maxQueueMs, stallTimeoutMs, coalesceMs, coalesce, waitForPublisherMs };
}

/** `ctx.shared` key of the stream's feed: whichever play sink subscribes first feeds the channel. */
export const LIVE_FEED: unique symbol = Symbol('wsflv.live.feed');

/**
 * The publishing half of a play sink: feeds one stream session's packets to the registry's channel for
 * `key` (default `ctx.key`), from subscription until `data$` ends (the publisher left: players get
 * the grace period).
 *
 * Idempotent per stream session and key: two play sinks of one pipeline (ws-play and http-play) both
 * call it, and only the first to subscribe feeds; the other's Observable completes when that feed
 * does and never subscribes its own `data$`. That is only honest because the file check
 * (`checkPlaySinks`) lets two play sinks share a pipeline only with no branch stages and the same
 * feed options: their `data$` are then the same packets.
 *
 * Ends: a StreamError (from `data$`, or from anywhere in the stream's chain through `ctx.signal`)
 * closes the channel's players at once with its code and reason; a plain end or failure keeps them
 * for the grace period, in case the publisher returns.
 *
 * Errors: StreamBusyError at once when the key is published and the policy is 'reject';
 * PublisherRevokedError when another publisher takes the stream over (or the server stops). Both carry
 * `closeCode`, which the runtime hands to the publish source through `session.abort`.
 */
export function feedChannel(
  registry: LiveRegistry,
  ctx: StreamContext,
  data$: Observable<MediaPacket>,
  options: Pick<LiveSinkOptions, 'graceMs' | 'headerWaitMs' | 'publisherPolicy'> & { gop?: GopBounds | false },
  key = ctx.key,
): Observable<never> {
  return defer(() => {
    const feeds = (ctx.shared.get(LIVE_FEED) as Map<string, Observable<never>> | undefined) ?? new Map<string, Observable<never>>();
    ctx.shared.set(LIVE_FEED, feeds);
    const existing = feeds.get(key);
    if (existing) return existing;
    const done = new Subject<never>();
    feeds.set(key, done.asObservable());
    const publicationOptions: PublicationOptions = {
      policy: options.publisherPolicy,
      graceMs: options.graceMs,
      headerWaitMs: options.headerWaitMs,
      gop: options.gop === false ? undefined : new GopCache(options.gop ?? DEFAULT_GOP_BOUNDS),
      info: { origin: ctx.origin },
    };
    return new Observable<never>((subscriber) => {
      const publication = registry.publish(key, publicationOptions);
      // Other pipelines may read this stream back (the `live` source): they see what the players see.
      const tap = registry.taps.open(key, ctx.origin, [...(ctx.origin.via ?? []), ctx.pipeline]);
      // Ends the publication; on purpose (a StreamError) the players are told now, not after the grace period.
      const end = (why: unknown) => {
        const current = publication.active;
        tap.end();
        publication.end();
        if (current && why instanceof StreamError) registry.end(key, why.close.ws, why.reason);
      };
      const onAbort = () => end(ctx.signal.reason);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      publication.onRevoked((code, reason) => subscriber.error(new PublisherRevokedError(code, reason)));
      const subscription = data$.subscribe({
        next: (packet) => {
          publication.push(packet);
          tap.push(packet);
        },
        error: (error: unknown) => {
          end(error);
          subscriber.error(error);
        },
        complete: () => {
          end(undefined);
          subscriber.complete();
        },
      });
      return () => {
        ctx.signal.removeEventListener('abort', onAbort);
        subscription.unsubscribe();
        end(ctx.signal.aborted ? ctx.signal.reason : undefined);
      };
    }).pipe(finalize(() => done.complete()));
  });
}
