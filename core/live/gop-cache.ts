import type { LiveTag } from './types.js';

/**
 * What a player joining a live stream mid-way needs, kept bounded: the latest onMetaData, the
 * latest decoder configuration of every track, and the group of pictures since the last video
 * keyframe, as the very LiveTags (and so the very buffers) live players were sent.
 *
 * The live channel feeds it; the `gop-cache` stage only decides whether a stream has one and how
 * big it may grow, by putting an instance in the stream's `ctx.shared` under GOP_CACHE. Without the
 * stage the channel keeps one with the GOP turned off (`NO_GOP`): metadata and configurations are
 * always kept, since a player cannot decode anything without them.
 *
 * Audio-only streams keep no GOP at all: every audio frame is a random access point, so a joiner
 * starts at the next live frame (a few tens of milliseconds away) and nothing grows with time.
 */

/** `ctx.shared` key of the stream's GopCache, set by the gop-cache stage. */
export const GOP_CACHE: unique symbol = Symbol('wsflv.live.gop-cache');

export interface GopBounds {
  /** Tags in the cached GOP (video and audio together); 0 turns the GOP off. */
  maxFrames: number;
  /** Bytes of FLV tags in the cached GOP. */
  maxBytes: number;
  /** Media time from the GOP's keyframe to its newest tag. */
  maxMs: number;
}

/** Ten seconds of a 30 fps stream with 48 kHz AAC stays under maxFrames; a 6 Mb/s GOP of 10 s fits. */
export const DEFAULT_GOP_BOUNDS: Readonly<GopBounds> = { maxFrames: 1200, maxBytes: 8 * 1024 * 1024, maxMs: 10_000 };
export const NO_GOP: Readonly<GopBounds> = { maxFrames: 0, maxBytes: 0, maxMs: 0 };

export interface TrackPresence {
  audio: boolean;
  video: boolean;
}

/**
 * The tracks an onMetaData says the stream has, or undefined when it says nothing about tracks.
 * Publishers either set hasAudio/hasVideo or list a codec id only for the tracks they send
 * (ffmpeg does the latter), so once any of those keys is present a missing track means "none".
 */
export function declaredTracks(metadata: Record<string, unknown>): TrackPresence | undefined {
  const hasAudio = metadata.hasAudio;
  const hasVideo = metadata.hasVideo;
  const audioId = metadata.audiocodecid !== undefined && metadata.audiocodecid !== null;
  const videoId = metadata.videocodecid !== undefined && metadata.videocodecid !== null;
  if (typeof hasAudio !== 'boolean' && typeof hasVideo !== 'boolean' && !audioId && !videoId) return undefined;
  return {
    audio: typeof hasAudio === 'boolean' ? hasAudio : audioId,
    video: typeof hasVideo === 'boolean' ? hasVideo : videoId,
  };
}

export interface GopSnapshot<T extends LiveTag> {
  /** In sending order: metadata, the configurations in force at the GOP's start, the GOP. */
  tags: T[];
  /** The tags include a video keyframe to start from; otherwise the joiner waits for the next one. */
  keyframe: boolean;
}

export interface GopCacheStats {
  frames: number;
  bytes: number;
  spanMs: number;
  /** GOPs dropped because they outgrew a bound. */
  overflows: number;
}

export class GopCache<T extends LiveTag = LiveTag> {
  readonly bounds: Readonly<GopBounds>;
  metadata: T | undefined;
  /** The decoder configuration in force per track (Enhanced RTMP multitrack has several per kind). */
  readonly #configs = new Map<string, T>();
  /** Tracks that have sent at least one tag. */
  readonly seen: TrackPresence = { audio: false, video: false };
  /** Tracks the latest onMetaData announced, if it said. */
  declared: TrackPresence | undefined;
  overflows = 0;

  #gop: T[] = [];
  /** Configurations in force when the cached GOP's keyframe arrived (later changes are inline). */
  #gopConfigs: T[] = [];
  #gopBytes = 0;

  constructor(bounds: Partial<GopBounds> = {}) {
    this.bounds = { ...DEFAULT_GOP_BOUNDS, ...bounds };
  }

  get enabled(): boolean {
    return this.bounds.maxFrames > 0 && this.bounds.maxBytes > 0 && this.bounds.maxMs > 0;
  }

  /** `metadata` is the decoded onMetaData object when `tag` is one; other script tags are not kept. */
  push(tag: T, metadata?: Record<string, unknown>): void {
    if (tag.kind === 'script') {
      if (metadata) {
        this.metadata = tag;
        this.declared = declaredTracks(metadata);
      }
      return;
    }
    this.seen[tag.kind] = true;
    if (tag.config) {
      this.#configs.set(trackKey(tag), tag);
      if (tag.kind === 'video') {
        // Frames cached so far belong to the old configuration: a joiner must start at the next keyframe.
        this.#clear();
      } else {
        if (this.#gop.length > 0) this.#append(tag);
      }
      return;
    }
    if (!this.enabled) return;
    if (tag.kind === 'video' && tag.keyframe) {
      this.#clear();
      this.#gopConfigs = this.#currentConfigs();
      this.#append(tag);
    } else if (this.#gop.length > 0) {
      this.#append(tag);
    }
  }

  /** Forget everything: a new publisher session brings its own metadata and configurations. */
  reset(): void {
    this.metadata = this.declared = undefined;
    this.#configs.clear();
    this.seen.audio = this.seen.video = false;
    this.#clear();
  }

  /** What a joiner is sent after the FLV header, before live tags. The array is the caller's. */
  snapshot(): GopSnapshot<T> {
    const tags: T[] = [];
    if (this.metadata) tags.push(this.metadata);
    if (this.#gop.length > 0) {
      tags.push(...this.#gopConfigs, ...this.#gop);
      return { tags, keyframe: true };
    }
    tags.push(...this.#currentConfigs());
    return { tags, keyframe: false };
  }

  /**
   * The FLV header's track flags once they can be trusted, else undefined. Flags are the tracks seen,
   * never merely announced: a flag for a track that never comes stalls players on a black screen.
   * They are final once every announced track has been seen, or (with no announcement) both have;
   * after `waitOver` (the caller's short bound) whatever has been seen is taken.
   */
  headerTracks(waitOver: boolean): TrackPresence | undefined {
    const { seen, declared } = this;
    if (!seen.audio && !seen.video) return undefined;
    const complete = declared
      ? (!declared.audio || seen.audio) && (!declared.video || seen.video)
      : seen.audio && seen.video;
    return complete || waitOver ? { audio: seen.audio, video: seen.video } : undefined;
  }

  get stats(): GopCacheStats {
    const gop = this.#gop;
    const spanMs = gop.length > 0 ? gop[gop.length - 1]!.dts - gop[0]!.dts : 0;
    return { frames: gop.length, bytes: this.#gopBytes, spanMs, overflows: this.overflows };
  }

  /** The video track's configuration (the default track's under multitrack). */
  get videoConfig(): T | undefined {
    return this.#configs.get('video:0');
  }

  /** The audio track's configuration (the default track's under multitrack). */
  get audioConfig(): T | undefined {
    return this.#configs.get('audio:0');
  }

  /** Every track's configuration: video tracks first, then audio (the order a decoder wants them). */
  #currentConfigs(): T[] {
    const configs = [...this.#configs.values()];
    return configs.filter((c) => c.kind === 'video').concat(configs.filter((c) => c.kind === 'audio'));
  }

  #append(tag: T): void {
    const gop = this.#gop;
    gop.push(tag);
    this.#gopBytes += tag.flv.length;
    const { maxFrames, maxBytes, maxMs } = this.bounds;
    if (gop.length > maxFrames || this.#gopBytes > maxBytes || tag.dts - gop[0]!.dts > maxMs) {
      this.overflows++;
      this.#clear();
    }
  }

  #clear(): void {
    if (this.#gop.length > 0) this.#gop = [];
    this.#gopConfigs = [];
    this.#gopBytes = 0;
  }
}

function trackKey(tag: LiveTag): string {
  return `${tag.kind}:${tag.trackId ?? 0}`;
}
