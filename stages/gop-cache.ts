import { injectable } from 'inversify';
import { z } from 'zod';
import { DEFAULT_GOP_BOUNDS, GOP_CACHE, GopCache, type GopBounds } from '../core/live/gop-cache.js';
import type { StageComponent, StreamContext } from '../core/pipeline/component.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';

const options = z
  .object({
    maxFrames: z.number().int().min(1).max(100_000).default(DEFAULT_GOP_BOUNDS.maxFrames).describe('most tags (audio and video) kept from the last keyframe'),
    maxBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(DEFAULT_GOP_BOUNDS.maxBytes).describe('most FLV bytes kept from the last keyframe'),
    maxMs: z.number().int().min(1).max(120_000).default(DEFAULT_GOP_BOUNDS.maxMs).describe('most media milliseconds kept from the last keyframe'),
  })
  .strict();

/**
 * Lets players that join a live stream start at once, from the last keyframe, instead of waiting for
 * the next one. The packets pass through untouched: the stage only gives the stream a bounded GopCache
 * (in `ctx.shared` under GOP_CACHE) that the live channel fills with the tags it has already muxed, so
 * the cached GOP costs no extra muxing or copies. Past a bound the cached GOP is dropped until the next
 * keyframe. Audio-only streams keep nothing: any audio frame is a starting point.
 */
@injectable()
export class GopCacheStage implements StageComponent<GopBounds> {
  readonly role = 'stage';
  readonly type = 'gop-cache';
  readonly description = 'Keeps the GOP since the last keyframe so live players start at once';
  readonly consumes = MEDIA_PACKETS;
  readonly produces = MEDIA_PACKETS;
  readonly options = options;

  create(config: GopBounds) {
    return (ctx: StreamContext) => {
      // Set while the chain is built, before any sink subscribes, so the channel finds it on publish.
      ctx.shared.set(GOP_CACHE, new GopCache(config));
      return <T>(source: T) => source;
    };
  }
}
