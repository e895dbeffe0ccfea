import { inject, injectable, type ServiceIdentifier } from 'inversify';
import { CLOCK, type Clock } from '../clock.js';
import { WsflvError } from '../errors.js';
import { LOGGER, type Logger } from '../logger.js';
import { METRICS, type Metrics } from '../metrics.js';
import type { Lifecycle } from '../pipeline/app.js';
import { DEFAULT_CHANNEL_SETTINGS, LiveChannel, type ChannelSettings, type LiveStreamStats } from './channel.js';
import type { Publication, PublisherInfo } from './publication.js';
import type { GopCache } from './gop-cache.js';
import { LiveStreamTaps } from './stream-taps.js';
import { FlushScheduler } from './flush-scheduler.js';
import { unbatchedLoad } from './write-load.js';
import { DEFAULT_PLAYER_LIMITS, type LivePlayer, type PlayerLimits, type PlayerStats } from './player.js';
import type { PlayerTransport } from './types.js';
import { CLOSE, StreamBusyError } from './close.js';
import type { RemoteStreams } from './remote.js';

export const LIVE_REGISTRY: ServiceIdentifier<LiveRegistry> = Symbol.for('wsflv.live-registry');

/** The registry a live component was given, or a clear error naming the module to load. */
export function requireRegistry(registry: LiveRegistry | undefined, component: string): LiveRegistry {
  if (!registry) throw new WsflvError('WSFLV_ERR_NO_REGISTRY', `\`${component}\` needs the live registry: load liveModule (core/live/module.ts) with the components`);
  return registry;
}

/** What a second publisher on a live key gets: refused, or the stream (the first one is closed). */
export type PublisherPolicy = 'reject' | 'takeover';

export interface PublicationOptions extends Partial<ChannelSettings> {
  /** Default 'reject'. */
  policy?: PublisherPolicy;
  /** The stream's GopCache (from the gop-cache stage); without one no GOP is kept. */
  gop?: GopCache;
  info?: PublisherInfo;
}

export interface PlayOptions extends Partial<PlayerLimits> {
  /** How long a player may wait for a publisher that is not there yet; 0 (default) closes it at once. */
  waitForPublisherMs?: number;
}

const SWEEP_MS = 1000;
/** How long a player of a stream held by another node may wait for its first tags to get here. */
const REMOTE_WAIT_MS = 10_000;

/**
 * Every live stream of the process by key, and the one place players and publishers meet. Publishers
 * come through `publish` (the play sinks' feedChannel), players through `play` (the listener's play
 * routes). Channels live from their first publisher (or waiting player) until they end.
 */
@injectable()
export class LiveRegistry implements Lifecycle {
  readonly name = 'live-registry';
  /** Every live stream as packets, for pipelines that read others' output (the `live` source). */
  readonly taps = new LiveStreamTaps();
  readonly #channels = new Map<string, LiveChannel>();
  readonly #schedulers = new Map<string, FlushScheduler>();
  readonly #watchers = new Map<string, Set<(players: number) => void>>();
  readonly #streamWatchers = new Set<(channel: LiveChannel) => void>();
  #remote: RemoteStreams | undefined;
  /** What each channel's byte and tag totals were when last added to the counters. */
  readonly #reported = new Map<LiveChannel, { bytesIn: number; tagsIn: number; bytesOut: number; tagsOut: number; writesOut: number }>();
  readonly #logger: Logger;
  readonly #clock: Clock;
  #sweep: NodeJS.Timeout | undefined;

  readonly #players;
  readonly #streams;
  readonly #closed;
  readonly #dropped;
  readonly #bytesSent;
  readonly #bytesReceived;
  readonly #tagsReceived;
  readonly #tagsSent;
  readonly #writes;

  constructor(@inject(LOGGER) logger: Logger, @inject(CLOCK) clock: Clock, @inject(METRICS) metrics: Metrics) {
    this.#logger = logger.child({ component: 'live' });
    this.#clock = clock;
    this.#players = metrics.gauge('wsflv_live_players', 'Players attached to live streams (waiting ones included), by transport', ['transport']);
    this.#streams = metrics.gauge('wsflv_live_streams', 'Live streams being published or in their grace period');
    this.#closed = metrics.counter('wsflv_live_players_closed_total', 'Players gone, by close code and its name (peer: closed by the player)', ['code', 'reason']);
    this.#dropped = metrics.counter('wsflv_live_frames_dropped_total', 'Frames not sent to players that were over their queue bound');
    this.#bytesSent = metrics.counter('wsflv_live_bytes_sent_total', 'Bytes written to live players');
    this.#tagsSent = metrics.counter('wsflv_live_tags_sent_total', 'FLV tags written to live players');
    this.#writes = metrics.counter('wsflv_live_writes_total', 'Writes to live players\' connections (a batch of tags is one write)');
    this.#bytesReceived = metrics.counter('wsflv_live_bytes_received_total', 'FLV bytes taken from publishers into live channels');
    this.#tagsReceived = metrics.counter('wsflv_live_tags_received_total', 'FLV tags taken from publishers into live channels');
    const window = metrics.gauge('wsflv_live_write_window_ms', 'The write-gathering window in force, by mode and configured maximum', ['mode', 'max']);
    const load = metrics.gauge('wsflv_live_write_load', 'Projected share of time one write per tag would take: what adaptive windows follow');
    metrics.beforeScrape(() => {
      load.set(unbatchedLoad());
      for (const channel of this.#channels.values()) this.#reportBytes(channel);
      for (const w of this.writeWindows()) window.set({ mode: w.mode, max: String(w.maxMs) }, w.windowMs);
    });
  }

  /**
   * A publisher starts on `key`. Throws StreamBusyError when the key is published and the policy is
   * 'reject'; under 'takeover' the current publication is revoked (PublisherRevokedError for its feed).
   */
  publish(key: string, options: PublicationOptions = {}): Publication {
    let channel = this.#channels.get(key);
    const policy = options.policy ?? 'reject';
    if (channel?.publication && policy === 'reject') throw new StreamBusyError(key);
    // A feed from another node is that node's publisher, already admitted there.
    if (options.info?.node === undefined) this.#remote?.claim(key, policy);
    if (!channel || channel.state === 'ended') channel = this.#create(key);
    const settings: ChannelSettings = {
      headerWaitMs: options.headerWaitMs ?? DEFAULT_CHANNEL_SETTINGS.headerWaitMs,
      graceMs: options.graceMs ?? DEFAULT_CHANNEL_SETTINGS.graceMs,
    };
    const publication = channel.publish(options.info ?? {}, settings, options.gop);
    this.#updateStreams();
    return publication;
  }

  /**
   * Attach a player to `player.key`. It starts at once if the stream is live, waits up to
   * `waitForPublisherMs` for a publisher otherwise (then CLOSE.streamNotFound). Callers that want to
   * refuse before accepting (HTTP 404) check `has(key)` first.
   */
  play(player: PlayerTransport, options: PlayOptions = NO_OPTIONS): LivePlayer {
    const limits = limitsOf(options);
    const key = player.key;
    let channel = this.#channels.get(key);
    if (!channel || channel.state === 'ended') channel = this.#create(key);
    let wait = options.waitForPublisherMs ?? 0;
    // Held by another node: the player waits here while the cluster brings the stream over.
    const remote = channel.state === 'idle' && this.#remote?.has(key) === true;
    if (remote) wait = Math.max(wait, REMOTE_WAIT_MS);
    this.#players.inc({ transport: player.transport });
    const added = channel.addPlayer(player, limits, wait);
    if (remote) this.#remote!.demand(key);
    this.#playersChanged(key);
    return added;
  }

  /** A publisher is on `key`, or left it less than its grace period ago; here or, in a cluster, on another node. */
  has(key: string): boolean {
    return this.hasLocal(key) || this.#remote?.has(key) === true;
  }

  /** A publisher of this node (or a feed from another node) is on `key`, or left it within its grace period. */
  hasLocal(key: string): boolean {
    const state = this.#channels.get(key)?.state;
    return state === 'live' || state === 'grace';
  }

  /** The cluster this registry belongs to (core/cluster attaches itself when `server.cluster` is set). */
  attachRemote(remote: RemoteStreams | undefined): void {
    this.#remote = remote;
  }

  get remote(): RemoteStreams | undefined {
    return this.#remote;
  }

  /**
   * Calls `listener` whenever a stream goes live, into its grace period or ends: what the cluster
   * announces to the other nodes. Returns the way to stop listening.
   */
  watchStreams(listener: (channel: LiveChannel) => void): () => void {
    this.#streamWatchers.add(listener);
    return () => this.#streamWatchers.delete(listener);
  }

  /**
   * Another node took `key` over: revoke this node's publisher (`code`, `reason` for it) and hold the
   * players for the grace period. False when nobody publishes it here.
   */
  release(key: string, code: number, reason: string): boolean {
    return this.#channels.get(key)?.release(code, reason) ?? false;
  }

  #streamChanged(channel: LiveChannel): void {
    for (const listener of [...this.#streamWatchers]) listener(channel);
  }

  get(key: string): LiveChannel | undefined {
    return this.#channels.get(key);
  }

  /** Streams being published or in their grace period, for the API. */
  list(): LiveStreamStats[] {
    const out: LiveStreamStats[] = [];
    for (const channel of this.#channels.values()) {
      if (channel.state === 'live' || channel.state === 'grace') out.push(channel.stats);
    }
    return out;
  }

  players(key: string): PlayerStats[] {
    return this.#channels.get(key)?.players ?? [];
  }

  /**
   * Calls `listener` with the number of players on `key` (waiting ones included) each time it
   * changes: what an on-demand source starts and stops on. Returns the way to stop listening.
   */
  watchPlayers(key: string, listener: (players: number) => void): () => void {
    let listeners = this.#watchers.get(key);
    if (!listeners) this.#watchers.set(key, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#watchers.get(key) === listeners) this.#watchers.delete(key);
    };
  }

  #playersChanged(key: string): void {
    const listeners = this.#watchers.get(key);
    if (!listeners) return;
    const count = this.#channels.get(key)?.playerCount ?? 0;
    for (const listener of [...listeners]) listener(count);
  }

  /**
   * End the stream on `key` now: its players are closed with `code` and `reason`, its publisher is
   * revoked (the publish source closes it with the same code). False when nothing is on that key.
   */
  end(key: string, code: number, reason: string): boolean {
    const channel = this.#channels.get(key);
    if (!channel || channel.state === 'ended') return false;
    channel.end(code, reason);
    return true;
  }

  /** Close one player, by connection id, with `code` and `reason`. False when no stream has it. */
  kick(id: string, code: number, reason: string): boolean {
    for (const channel of this.#channels.values()) if (channel.closePlayer(id, code, reason)) return true;
    return false;
  }

  async start(): Promise<void> {
    if (this.#sweep) return;
    this.#sweep = setInterval(() => this.#sweepAll(), SWEEP_MS);
    this.#sweep.unref();
  }

  /** Close every player (CLOSE.goingAway) and revoke every publisher. */
  async stop(): Promise<void> {
    clearInterval(this.#sweep);
    this.#sweep = undefined;
    for (const channel of [...this.#channels.values()]) channel.end(CLOSE.goingAway, 'the server is shutting down');
    for (const scheduler of this.#schedulers.values()) scheduler.stop();
    this.taps.close();
  }

  #create(key: string): LiveChannel {
    const channel = new LiveChannel(key, {
      clock: this.#clock,
      logger: this.#logger,
      scheduler: (windowMs, mode) => this.#scheduler(windowMs, mode),
      ended: (ended) => {
        this.#reportBytes(ended);
        this.#reported.delete(ended);
        if (this.#channels.get(key) === ended) this.#channels.delete(key);
        this.#updateStreams();
        this.#streamChanged(ended);
      },
      changed: (changed) => this.#streamChanged(changed),
      playerClosed: (player, code) => {
        this.#players.dec({ transport: player.transport.transport });
        this.#closed.inc({ code: code === undefined ? 'peer' : String(code), reason: closeName(code) });
        // Told once the channel has let go of the player, so the count is the one that remains.
        if (this.#watchers.has(key)) queueMicrotask(() => this.#playersChanged(key));
      },
      dropped: (count) => this.#dropped.inc(count),
    });
    this.#channels.set(key, channel);
    return channel;
  }

  #scheduler(windowMs: number, mode: 'adaptive' | 'fixed' = 'adaptive'): FlushScheduler {
    const key = `${mode}:${windowMs}`;
    let scheduler = this.#schedulers.get(key);
    if (!scheduler) {
      scheduler = new FlushScheduler(windowMs, { adaptive: mode === 'adaptive' });
      this.#schedulers.set(key, scheduler);
    }
    return scheduler;
  }

  /** The write windows in force: one per configured maximum and mode that some player uses. */
  writeWindows(): { mode: 'adaptive' | 'fixed'; maxMs: number; windowMs: number }[] {
    return [...this.#schedulers.values()].map((s) => ({ mode: s.adaptive ? 'adaptive' : 'fixed', maxMs: s.maxWindowMs, windowMs: s.windowMs }));
  }

  #sweepAll(): void {
    for (const channel of this.#channels.values()) {
      channel.sweep();
      this.#reportBytes(channel);
    }
  }

  /** Bytes and tags are summed from the channel (each second, and at every scrape) rather than counted on every write. */
  #reportBytes(channel: LiveChannel): void {
    const { bytesIn, tagsIn, bytesOut, tagsOut, writesOut } = channel.stats;
    const last = this.#reported.get(channel) ?? { bytesIn: 0, tagsIn: 0, bytesOut: 0, tagsOut: 0, writesOut: 0 };
    if (bytesIn > last.bytesIn) this.#bytesReceived.inc(bytesIn - last.bytesIn);
    if (tagsIn > last.tagsIn) this.#tagsReceived.inc(tagsIn - last.tagsIn);
    if (bytesOut > last.bytesOut) this.#bytesSent.inc(bytesOut - last.bytesOut);
    if (tagsOut > last.tagsOut) this.#tagsSent.inc(tagsOut - last.tagsOut);
    if (writesOut > last.writesOut) this.#writes.inc(writesOut - last.writesOut);
    this.#reported.set(channel, { bytesIn, tagsIn, bytesOut, tagsOut, writesOut });
  }

  #updateStreams(): void {
    let live = 0;
    for (const channel of this.#channels.values()) if (channel.state === 'live' || channel.state === 'grace') live++;
    this.#streams.set(live);
  }
}

const NO_OPTIONS: PlayOptions = {};

/** Players given one options object share one limits object (a sink passes the same options for each). */
const limitsByOptions = new WeakMap<PlayOptions, Readonly<PlayerLimits>>();

function limitsOf(options: PlayOptions): Readonly<PlayerLimits> {
  let limits = limitsByOptions.get(options);
  if (!limits) {
    limits = Object.freeze({
      maxQueueBytes: options.maxQueueBytes ?? DEFAULT_PLAYER_LIMITS.maxQueueBytes,
      maxQueueMs: options.maxQueueMs ?? DEFAULT_PLAYER_LIMITS.maxQueueMs,
      stallTimeoutMs: options.stallTimeoutMs ?? DEFAULT_PLAYER_LIMITS.stallTimeoutMs,
      coalesceMs: options.coalesceMs ?? DEFAULT_PLAYER_LIMITS.coalesceMs,
      coalesce: options.coalesce ?? DEFAULT_PLAYER_LIMITS.coalesce,
    });
    limitsByOptions.set(options, limits);
  }
  return limits;
}

const CLOSE_NAMES = new Map<number, string>(Object.entries(CLOSE).map(([name, code]) => [code, name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)]));

/** A close code's name for metric labels (`slow_consumer`, `stream_ended`...); `peer` when the player left. */
function closeName(code: number | undefined): string {
  if (code === undefined) return 'peer';
  return CLOSE_NAMES.get(code) ?? 'other';
}
