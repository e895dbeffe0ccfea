import type { Clock } from '../clock.js';
import { describeTrack } from '../codecs/describe.js';
import { decodeScriptData } from '../flv/amf0.js';
import { muxedTagSize, muxFlvHeader, muxMetadata, muxTagWithHeadroom } from '../flv/muxer.js';
import type { Logger } from '../logger.js';
import type { MediaPacket } from '../media/packet.js';
import type { TrackInfo } from '../media/track.js';
import { GopCache, NO_GOP, type GopCacheStats, type TrackPresence } from './gop-cache.js';
import { ChannelTag, FramedBuffer } from './framed-tag.js';
import { TagSlab } from './tag-slab.js';
import type { FlushScheduler } from './flush-scheduler.js';
import { Publication, type PublisherInfo } from './publication.js';
import { LivePlayer, type PlayerHooks, type PlayerLimits, type PlayerStats } from './player.js';
import type { PlayerTransport } from './types.js';
import { CLOSE } from './close.js';
import { writeWsHeader, wsHeaderSize } from './ws-frame.js';


export interface ChannelSettings {
  /** How long the FLV header may wait for every track to show up before it is written with those seen. */
  headerWaitMs: number;
  /** How long players stay after the publisher leaves, waiting for it to come back. */
  graceMs: number;
}

export const DEFAULT_CHANNEL_SETTINGS: Readonly<ChannelSettings> = { headerWaitMs: 500, graceMs: 5000 };


export type ChannelState = 'idle' | 'live' | 'grace' | 'ended';

export interface LiveStreamStats {
  key: string;
  state: ChannelState;
  publisher: (PublisherInfo & { startedAt: number }) | undefined;
  /** Track flags new players get in their FLV header (undefined until known). */
  tracks: TrackPresence | undefined;
  players: number;
  /** Players waiting for a publisher or for the stream's tracks to be known. */
  waiting: number;
  tagsIn: number;
  bytesIn: number;
  /** Tags sent to players, those gone included. */
  tagsOut: number;
  /** Bytes sent to players, those gone included. */
  bytesOut: number;
  /** Writes to players' connections, those gone included: tags out per write is how much batching saves. */
  writesOut: number;
  framesDropped: number;
  gop: GopCacheStats;
  /** What the publisher's decoder configurations (or legacy audio flags) say about each track. */
  codecs: { audio?: TrackInfo; video?: TrackInfo };
  /** The publisher's latest onMetaData, as decoded. */
  metadata: Record<string, unknown> | undefined;
  /** Media time between the last two video keyframes (ms), once there were two. */
  keyframeIntervalMs: number | undefined;
}

export interface ChannelDeps {
  clock: Clock;
  logger: Logger;
  /** The shared write-batching timer for a window length. */
  scheduler(windowMs: number, mode?: 'adaptive' | 'fixed'): FlushScheduler;
  /** The channel has closed everything and can be forgotten. */
  ended(channel: LiveChannel): void;
  playerClosed?(player: LivePlayer, code: number | undefined, reason: string): void;
  /** The channel went live, or into its grace period. */
  changed?(channel: LiveChannel): void;
  dropped?(count: number): void;
}

interface Session {
  publication: Publication;
  settings: ChannelSettings;
  cache: GopCache<ChannelTag>;
  /** The header-wait bound has passed: write the header with the tracks seen so far. */
  waitOver: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Set once the header flags can be trusted: from then on players start at once. */
  ready: boolean;
  /** The first packet fixes the timestamp offset that keeps a returning publisher's timeline going. */
  offsetPending: boolean;
  /** A later publisher on a channel that already sent tags to players. */
  resumed: boolean;
}

/**
 * The fan-out point of one live stream key: packets from the current publisher come in once, go out
 * as the same buffers to every player.
 *
 * Joining: a player gets the FLV header once the stream's tracks are known (GopCache.headerTracks,
 * bounded by `headerWaitMs`), then in the same write the latest onMetaData, the configurations and the
 * cached GOP, then live tags. Without a GOP it starts at the next keyframe (LivePlayer syncing).
 *
 * Publisher changes: when the publisher leaves, players stay for `graceMs`. A publisher that comes back
 * in time (or takes the stream over) continues the same players: its timestamps are shifted to follow
 * on from the last ones sent, its configurations reach players as they come, and each player waits for
 * its first keyframe. Otherwise the players are closed with CLOSE.streamEnded.
 */
export class LiveChannel {
  readonly key: string;
  readonly #deps: ChannelDeps;
  readonly #logger: Logger;
  #state: ChannelState = 'idle';
  #session: Session | undefined;
  /** The cache of the last session, kept through the grace period for the stats. */
  #cache: GopCache<ChannelTag> = new GopCache(NO_GOP);
  readonly #live = new Set<LivePlayer>();
  readonly #waiting = new Set<LivePlayer>();
  #graceTimer: NodeJS.Timeout | undefined;
  readonly #headers = new Map<number, FramedBuffer>();
  /** Where this channel's muxed tags are carved from. */
  readonly #slab = new TagSlab();

  #offset = 0;
  /** Last dts sent and the step before it, per kind (audio, video, script), for a returning publisher. */
  readonly #lastDts = [NaN, NaN, NaN];
  readonly #lastStep = [0, 0, 0];
  #published = false;

  #tagsIn = 0;
  #bytesIn = 0;
  #bytesOutGone = 0;
  #tagsOutGone = 0;
  #writesOutGone = 0;
  #droppedGone = 0;
  /** Per publisher session: what its tracks are, its onMetaData, its keyframe spacing. */
  #codecs: { audio?: TrackInfo; video?: TrackInfo } = {};
  #metadata: Record<string, unknown> | undefined;
  #lastKeyDts = NaN;
  #keyframeIntervalMs: number | undefined;
  /** One set of hooks for every player of the channel. */
  readonly #playerHooks: PlayerHooks;

  constructor(key: string, deps: ChannelDeps) {
    this.key = key;
    this.#deps = deps;
    this.#logger = deps.logger.child({ stream: key });
    this.#playerHooks = { closed: (p, code, reason) => this.#playerClosed(p, code, reason), dropped: deps.dropped };
  }

  get state(): ChannelState {
    return this.#state;
  }

  /** The current publisher's hold, if one is publishing. */
  get publication(): Publication | undefined {
    return this.#session?.publication;
  }

  /**
   * Start a publisher session. A current publisher must have been revoked first (the registry applies
   * the reject/takeover policy). `cache` is the stream's GopCache from the gop-cache stage, if any.
   */
  publish(info: PublisherInfo, settings: ChannelSettings, cache?: GopCache): Publication {
    if (this.#state === 'ended') throw new Error(`live channel ${this.key} has ended`);
    const previous = this.#session;
    if (previous) {
      previous.publication.revoke(CLOSE.streamBusy, 'another publisher took over the stream');
      clearTimeout(previous.timer);
    }
    clearTimeout(this.#graceTimer);
    const publication = new Publication(this.key, info, this.#deps.clock.wallNow(), {
      push: (from, packet) => {
        if (this.#session?.publication === from) this.#push(this.#session, packet);
      },
      end: (from) => this.#publisherLeft(from),
    });
    const sessionCache = (cache ?? new GopCache(NO_GOP)) as GopCache<ChannelTag>;
    sessionCache.reset();
    const session: Session = {
      publication,
      settings,
      cache: sessionCache,
      waitOver: settings.headerWaitMs <= 0,
      timer: undefined,
      ready: false,
      offsetPending: this.#published,
      resumed: this.#published,
    };
    if (!session.waitOver) {
      session.timer = setTimeout(() => {
        session.waitOver = true;
        if (this.#session === session) this.#checkReady(session, undefined);
      }, settings.headerWaitMs);
      session.timer.unref();
    }
    const resumed = this.#published;
    this.#codecs = {};
    this.#metadata = undefined;
    this.#lastKeyDts = NaN;
    this.#keyframeIntervalMs = undefined;
    this.#session = session;
    this.#cache = sessionCache;
    this.#published = true;
    this.#state = 'live';
    for (const player of this.#live) player.resync();
    // Waiting for a publisher is over; waiting for its tracks is bounded by headerWaitMs.
    for (const player of this.#waiting) player.clearDeadline();
    this.#logger.info({ publisher: info.id, address: info.origin?.address, node: info.node, players: this.#live.size, resumed }, resumed ? 'publisher resumed the stream' : 'stream is live');
    this.#deps.changed?.(this);
    return publication;
  }

  /**
   * Attach a player. It starts at once when the stream is live and its tracks are known; otherwise it
   * waits: for a publisher up to `waitForPublisherMs` (0: closed at once with CLOSE.streamNotFound), for
   * a returning one until the grace period ends, for the tracks up to the header-wait bound.
   */
  addPlayer(transport: PlayerTransport, limits: Readonly<PlayerLimits>, waitForPublisherMs: number): LivePlayer {
    const player = new LivePlayer(transport, limits, {
      clock: this.#deps.clock,
      scheduler: limits.coalesceMs > 0 ? this.#deps.scheduler(limits.coalesceMs, limits.coalesce) : undefined,
      hooks: this.#playerHooks,
    });
    if (this.#state === 'ended') {
      player.close(CLOSE.streamEnded, `stream ${this.key} has ended`);
      return player;
    }
    const session = this.#session;
    if (session?.ready) {
      this.#live.add(player);
      this.#start(player, session.cache.snapshot(), session.cache);
      return player;
    }
    this.#waiting.add(player);
    if (this.#state === 'idle') {
      const notFound = `no stream is being published at ${this.key}`;
      if (waitForPublisherMs <= 0) player.close(CLOSE.streamNotFound, notFound);
      else {
        player.setDeadline(waitForPublisherMs, () => {
          if (!this.#session) player.close(CLOSE.streamNotFound, `${notFound} (waited ${waitForPublisherMs} ms)`);
        });
      }
    }
    return player;
  }

  /** Close every player with `code` and `reason`, revoke the publisher, and let the registry forget this channel. */
  end(code: number, reason: string): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    clearTimeout(this.#graceTimer);
    const session = this.#session;
    if (session) {
      clearTimeout(session.timer);
      session.publication.revoke(code, reason);
      this.#session = undefined;
    }
    for (const player of [...this.#waiting, ...this.#live]) player.close(code, reason, true);
    this.#logger.info({ code, reason }, 'stream ended');
    this.#deps.ended(this);
  }

  /**
   * Revoke the current publisher (with `code` and `reason` for it) and hold the players for the grace
   * period, as if it had left: another node of the cluster took the stream over. False with no publisher.
   */
  release(code: number, reason: string): boolean {
    const session = this.#session;
    if (!session) return false;
    session.publication.revoke(code, reason);
    this.#publisherLeft(session.publication);
    return true;
  }

  /** Close the player with connection id `id`; false when it is not one of this channel's. */
  closePlayer(id: string, code: number, reason: string): boolean {
    for (const player of [...this.#live, ...this.#waiting]) {
      if (player.id !== id) continue;
      player.close(code, reason, true);
      return true;
    }
    return false;
  }

  /** Periodic check for players stuck over their bounds while no tags arrive. */
  sweep(): void {
    for (const player of this.#live) player.checkStall();
  }

  /** Players attached, waiting ones included: a count without building their stats. */
  get playerCount(): number {
    return this.#live.size + this.#waiting.size;
  }

  get players(): PlayerStats[] {
    return [...this.#live, ...this.#waiting].map((player) => player.stats);
  }

  get stats(): LiveStreamStats {
    let bytesOut = this.#bytesOutGone;
    let tagsOut = this.#tagsOutGone;
    let writesOut = this.#writesOutGone;
    let framesDropped = this.#droppedGone;
    for (const player of this.#live) {
      bytesOut += player.bytesSent;
      tagsOut += player.tagsSent;
      writesOut += player.writes;
      framesDropped += player.framesDropped;
    }
    const session = this.#session;
    return {
      key: this.key,
      state: this.#state,
      publisher: session && { ...session.publication.info, startedAt: session.publication.startedAt },
      tracks: session?.ready ? { ...session.cache.seen } : undefined,
      players: this.#live.size,
      waiting: this.#waiting.size,
      tagsIn: this.#tagsIn,
      bytesIn: this.#bytesIn,
      tagsOut,
      bytesOut,
      writesOut,
      framesDropped,
      gop: this.#cache.stats,
      codecs: { ...this.#codecs },
      metadata: this.#metadata,
      keyframeIntervalMs: this.#keyframeIntervalMs,
    };
  }

  #push(session: Session, packet: MediaPacket): void {
    if (session.offsetPending) {
      session.offsetPending = false;
      const next = this.#nextDts();
      this.#offset = next === undefined ? 0 : next - packet.dts;
    }
    const kind = packet.kind;
    const index = kind === 'audio' ? 0 : kind === 'video' ? 1 : 2;
    const last = this.#lastDts[index]!;
    let dts = packet.dts + this.#offset;
    // A returning publisher's tracks need not start together: none may go back past what players have.
    if (session.resumed && dts < last) dts = last;
    let metadata: Record<string, unknown> | undefined;
    let flv: Buffer;
    let ws: Buffer | undefined;
    if (kind === 'script' && (metadata = onMetaData(packet)) !== undefined) {
      // Always re-muxed: publishers often wrap it in @setDataFrame, which players must never see.
      flv = muxMetadata(metadata, dts);
      this.#metadata = metadata;
    } else {
      // Muxed straight into its WebSocket frame, in a slab shared with its neighbours: one copy per tag.
      const size = muxedTagSize(packet.body.length);
      const headroom = wsHeaderSize(size);
      ws = muxTagWithHeadroom({ kind, dts, body: packet.body }, headroom, this.#slab.allocate);
      writeWsHeader(ws, size);
      flv = ws.subarray(headroom);
      if (kind !== 'script') this.#describe(kind, packet, dts);
    }
    if (dts > last) this.#lastStep[index] = dts - last;
    this.#lastDts[index] = dts;
    this.#tagsIn++;
    this.#bytesIn += flv.length;

    const tag = new ChannelTag(kind, dts, packet.keyframe, packet.config, flv, packet.trackId, ws);
    const cache = session.cache;
    cache.push(tag, metadata);
    const syncKind = cache.seen.video || cache.declared?.video ? 'video' : 'audio';
    const holding = session.ready ? undefined : this.#checkReady(session, tag);
    for (const player of this.#live) if (holding === undefined || !holding.has(player)) player.offer(tag, syncKind);
  }

  /** Track details for the API: every configuration is read (they may change), other packets until one says something. */
  #describe(kind: 'audio' | 'video', packet: MediaPacket, dts: number): void {
    if (packet.config || this.#codecs[kind] === undefined) {
      let info: TrackInfo | undefined;
      try {
        info = describeTrack(packet);
      } catch {
        // A malformed record still names its codec; decoding it is the player's problem.
      }
      this.#codecs[kind] = info ?? this.#codecs[kind] ?? { kind, codec: packet.codec };
    }
    if (kind === 'video' && packet.keyframe && !packet.config) {
      if (dts > this.#lastKeyDts) this.#keyframeIntervalMs = dts - this.#lastKeyDts;
      this.#lastKeyDts = dts;
    }
  }

  /**
   * Once the header flags are known, start every waiting player. Returns the players just started on a
   * snapshot that already holds `tag`, so that they are not offered it a second time.
   */
  #checkReady(session: Session, tag: ChannelTag | undefined): Set<LivePlayer> | undefined {
    if (!session.cache.headerTracks(session.waitOver)) return undefined;
    session.ready = true;
    clearTimeout(session.timer);
    if (this.#waiting.size === 0) return undefined;
    const snapshot = session.cache.snapshot();
    const started = new Set(this.#waiting);
    this.#waiting.clear();
    for (const player of started) {
      this.#live.add(player);
      this.#start(player, snapshot, session.cache);
    }
    return tag !== undefined && snapshot.tags.includes(tag) ? started : undefined;
  }

  #start(player: LivePlayer, snapshot: { tags: ChannelTag[]; keyframe: boolean }, cache: GopCache<ChannelTag>): void {
    player.start(this.#header(cache.seen), snapshot.tags, snapshot.keyframe);
    this.#logger.debug({ player: player.id, address: player.transport.address, tags: snapshot.tags.length, keyframe: snapshot.keyframe }, 'player started');
  }

  #header(tracks: TrackPresence): FramedBuffer {
    const id = (tracks.audio ? 4 : 0) | (tracks.video ? 1 : 0);
    let header = this.#headers.get(id);
    if (!header) {
      header = new FramedBuffer(muxFlvHeader(tracks));
      this.#headers.set(id, header);
    }
    return header;
  }

  /**
   * Where a returning publisher's first tag goes: one frame step after the latest audio or video tag
   * sent (script tags come too rarely for their step to mean anything), so players see no gap.
   */
  #nextDts(): number | undefined {
    let next: number | undefined;
    for (let i = 0; i < 2; i++) {
      const last = this.#lastDts[i]!;
      if (last !== last) continue;
      const candidate = last + Math.max(1, this.#lastStep[i]!);
      if (next === undefined || candidate > next) next = candidate;
    }
    const script = this.#lastDts[2]!;
    return next ?? (script === script ? script + 1 : undefined);
  }

  #publisherLeft(publication: Publication): void {
    const session = this.#session;
    if (session?.publication !== publication) return;
    clearTimeout(session.timer);
    this.#session = undefined;
    const graceMs = session.settings.graceMs;
    if (graceMs <= 0) {
      this.end(CLOSE.streamEnded, 'the publisher ended the stream');
      return;
    }
    this.#state = 'grace';
    this.#logger.info({ graceMs, players: this.#live.size }, 'publisher left; holding players for its return');
    this.#deps.changed?.(this);
    this.#graceTimer = setTimeout(() => this.end(CLOSE.streamEnded, `the publisher left and did not return within ${graceMs} ms`), graceMs);
    this.#graceTimer.unref();
  }

  #playerClosed(player: LivePlayer, code: number | undefined, reason: string): void {
    this.#live.delete(player);
    this.#waiting.delete(player);
    this.#bytesOutGone += player.bytesSent;
    this.#tagsOutGone += player.tagsSent;
    this.#writesOutGone += player.writes;
    this.#droppedGone += player.framesDropped;
    if (code === CLOSE.slowConsumer) {
      this.#logger.info({ player: player.id, address: player.transport.address, dropped: player.framesDropped }, reason);
    }
    this.#deps.playerClosed?.(player, code, reason);
    if (this.#state === 'idle' && this.#waiting.size === 0 && this.#live.size === 0) {
      this.#state = 'ended';
      this.#deps.ended(this);
    }
  }
}

/** The onMetaData object of a script packet, or undefined for any other script tag. */
function onMetaData(packet: MediaPacket): Record<string, unknown> | undefined {
  let script = packet.script;
  if (!script) {
    try {
      script = decodeScriptData(packet.body);
    } catch {
      return undefined;
    }
  }
  if (script.name !== 'onMetaData') return undefined;
  const value = script.values[0];
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}
