import type { Msg } from '@nats-io/transport-node';
import { inject, injectable, optional } from 'inversify';
import { CLOSE, StreamBusyError } from '../live/close.js';
import type { LiveChannel } from '../live/channel.js';
import { DEFAULT_CHANNEL_SETTINGS } from '../live/channel.js';
import { LIVE_REGISTRY, type LiveRegistry, type PublisherPolicy } from '../live/registry.js';
import type { RemoteStream, RemoteStreams } from '../live/remote.js';
import { LOGGER, type Logger } from '../logger.js';
import { METRICS, type Metrics } from '../metrics.js';
import type { Lifecycle } from '../pipeline/app.js';
import { ClusterBus } from './bus.js';
import { CLUSTER_SETTINGS, type ClusterSettings } from './config.js';
import { ClusterDirectory, parseAnnouncement, type ClusterNode, type NodeAnnouncement } from './directory.js';
import { EdgeFeed } from './edge-feed.js';
import { FeedTransport } from './feed-transport.js';
import { Subjects } from './subjects.js';

/** Announcements go out this often (and at once on every change). */
const ANNOUNCE_MS = 1000;
/** A node not heard from for this long is forgotten with its streams. */
const EXPIRE_MS = 3500;
/** An origin feed whose edge stopped asking for it this long ago is dropped. */
const WANT_EXPIRES_MS = 3500;
/** How long a starting node waits for NATS before it serves its local streams without the cluster. */
const CONNECT_WAIT_MS = 2000;

/** A stream this node takes from another, while players here want it. */
interface Wanted {
  key: string;
  players: number;
  feed: EdgeFeed | undefined;
  linger: NodeJS.Timeout | undefined;
  unwatch: () => void;
}

/**
 * This node's part in the cluster (`server.cluster`, or a worker of `server.workers`): it tells the
 * other nodes which streams its publishers feed, learns theirs, and moves media only where someone
 * watches. A player here of a stream held elsewhere makes this node ask the holder for it; the holder
 * adds one feed for this node to its channel (a player like any other, whose bytes go to the bus),
 * however many players this node has; the last player leaving stops it after `lingerMs`. It is the
 * registry's RemoteStreams: the registry asks it only about keys it does not hold.
 */
@injectable()
export class ClusterService implements Lifecycle, RemoteStreams {
  readonly name = 'cluster';
  readonly enabled: boolean;
  readonly node: string;
  readonly #settings: ClusterSettings | undefined;
  readonly #registry: LiveRegistry | undefined;
  readonly #logger: Logger;
  readonly #subjects: Subjects;
  readonly #directory: ClusterDirectory;
  readonly #startedAt = Date.now();
  #bus: ClusterBus | undefined;
  #timer: NodeJS.Timeout | undefined;
  #announcePending = false;
  #feedNumber = 0;
  #originNumber = 0;
  readonly #wanted = new Map<string, Wanted>();
  /** Feeds of this node's streams to other nodes, by feed id. */
  readonly #origins = new Map<string, FeedTransport>();
  /** Keys this node's own publishers feed (not feeds from other nodes). */
  readonly #originated = new Set<string>();
  readonly #unwatch: (() => void)[] = [];
  readonly #busBytes;
  readonly #gaps;
  readonly #nodesGauge;
  readonly #feedsGauge;

  constructor(
    @inject(CLUSTER_SETTINGS) @optional() settings: ClusterSettings | undefined,
    @inject(LIVE_REGISTRY) @optional() registry: LiveRegistry | undefined,
    @inject(LOGGER) logger: Logger,
    @inject(METRICS) metrics: Metrics,
  ) {
    this.#settings = settings;
    this.enabled = settings !== undefined && registry !== undefined;
    this.node = settings?.node ?? 'local';
    this.#registry = registry;
    this.#logger = logger.child({ component: 'cluster', node: this.node });
    this.#subjects = new Subjects(settings?.subjectPrefix ?? 'wsflv');
    this.#directory = new ClusterDirectory(this.node, EXPIRE_MS);
    this.#busBytes = metrics.counter('wsflv_cluster_bus_bytes_total', 'Media bytes this node sent to or received from the cluster bus', ['direction']);
    this.#gaps = metrics.counter('wsflv_cluster_feed_gaps_total', 'Bus messages found missing by this node (each resynced at the next keyframe)');
    this.#nodesGauge = metrics.gauge('wsflv_cluster_nodes', 'Nodes of the cluster this node hears, itself included');
    this.#feedsGauge = metrics.gauge('wsflv_cluster_feeds', 'Streams crossing the bus: from this node to others (origin) and to this node (edge)', ['role']);
    const remote = metrics.gauge('wsflv_cluster_remote_streams', 'Streams held by other nodes of the cluster');
    metrics.beforeScrape(() => {
      this.#nodesGauge.set(this.enabled ? this.#directory.nodes().length + 1 : 0);
      this.#feedsGauge.set({ role: 'origin' }, this.#origins.size);
      let edges = 0;
      for (const w of this.#wanted.values()) if (w.feed?.active) edges++;
      this.#feedsGauge.set({ role: 'edge' }, edges);
      remote.set(this.enabled ? this.list().length : 0);
    });
    if (this.enabled) registry!.attachRemote(this);
  }

  async start(): Promise<void> {
    if (!this.enabled || this.#bus) return;
    const registry = this.#registry!;
    const bus = new ClusterBus(this.#settings!.nats, this.node, this.#logger, {
      connected: () => {
        bus.publish(this.#subjects.hello, this.node);
        this.#announce();
      },
      // Edges start new feeds when the bus returns; what was sent meanwhile would arrive stale.
      disconnected: () => this.#dropOrigins(),
    });
    this.#bus = bus;
    bus.subscribe(this.#subjects.streams, (msg) => this.#heard(msg));
    bus.subscribe(this.#subjects.hello, (msg) => {
      if (msg.string() !== this.node) this.#announce();
    });
    bus.subscribe(this.#subjects.node(this.node), (msg) => this.#request(msg));
    this.#unwatch.push(
      registry.watchStreams((channel) => {
        this.#track(channel);
        this.#scheduleAnnounce();
      }),
    );
    this.#timer = setInterval(() => this.#tick(), ANNOUNCE_MS);
    this.#timer.unref();
    await bus.start(CONNECT_WAIT_MS);
    this.#logger.info({ nats: this.#settings!.nats, worker: this.#settings!.worker }, 'cluster node started');
  }

  async stop(): Promise<void> {
    const bus = this.#bus;
    if (!bus) return;
    clearInterval(this.#timer);
    for (const undo of this.#unwatch.splice(0)) undo();
    for (const wanted of [...this.#wanted.values()]) this.#forget(wanted, 'the node is stopping');
    this.#dropOrigins();
    bus.publish(this.#subjects.streams, JSON.stringify({ ...this.#announcement(), streams: [], bye: true }));
    this.#bus = undefined;
    await bus.stop(1000);
  }

  // RemoteStreams, asked by the registry.

  has(key: string): boolean {
    return this.#directory.holder(key) !== undefined;
  }

  demand(key: string): void {
    if (!this.#bus) return;
    let wanted = this.#wanted.get(key);
    if (!wanted) {
      const entry: Wanted = { key, players: this.#registry!.get(key)?.playerCount ?? 0, feed: undefined, linger: undefined, unwatch: () => undefined };
      entry.unwatch = this.#registry!.watchPlayers(key, (players) => this.#playersChanged(entry, players));
      this.#wanted.set(key, entry);
      wanted = entry;
    }
    this.#ensureFeed(wanted);
  }

  claim(key: string, policy: PublisherPolicy): void {
    const holder = this.#directory.holder(key);
    if (!holder || holder.state !== 'live') return;
    if (policy === 'reject') throw new StreamBusyError(key, holder.node);
    this.#logger.info({ stream: key, from: holder.node }, 'a publisher here takes the stream over');
    this.#bus?.publish(this.#subjects.node(holder.node), JSON.stringify({ op: 'takeover', key, edge: this.node }));
  }

  list(): RemoteStream[] {
    return this.#directory.streams().filter((s) => !this.#originated.has(s.key) || !this.#registry!.hasLocal(s.key));
  }

  /** Every node this one hears, itself first. */
  nodes(): ClusterNode[] {
    const self = this.#announcement();
    return [
      { node: this.node, pid: process.pid, startedAt: this.#startedAt, ...(self.worker !== undefined ? { worker: self.worker } : {}), players: self.players, streams: self.streams.length, self: true },
      ...this.#directory.nodes(),
    ];
  }

  get connected(): boolean {
    return this.#bus?.connected ?? false;
  }

  // Announcements.

  #track(channel: LiveChannel): void {
    const info = channel.publication?.info;
    if (channel.state === 'live' && info) {
      if (info.node === undefined) this.#originated.add(channel.key);
      else this.#originated.delete(channel.key);
    } else if (channel.state === 'ended') this.#originated.delete(channel.key);
  }

  #announcement(): NodeAnnouncement {
    const streams: NodeAnnouncement['streams'] = [];
    let players = 0;
    for (const stats of this.#registry!.list()) {
      players += stats.players + stats.waiting;
      if (!this.#originated.has(stats.key) || (stats.state !== 'live' && stats.state !== 'grace')) continue;
      streams.push({ key: stats.key, state: stats.state, since: stats.publisher?.startedAt ?? 0, players: stats.players + stats.waiting });
    }
    return { node: this.node, pid: process.pid, startedAt: this.#startedAt, ...(this.#settings?.worker !== undefined ? { worker: this.#settings.worker } : {}), players, streams };
  }

  #scheduleAnnounce(): void {
    if (this.#announcePending) return;
    this.#announcePending = true;
    queueMicrotask(() => {
      this.#announcePending = false;
      this.#announce();
    });
  }

  #announce(): void {
    this.#bus?.publish(this.#subjects.streams, JSON.stringify(this.#announcement()));
  }

  #heard(msg: Msg): void {
    const announcement = parseAnnouncement(msg.data);
    if (!announcement) return;
    if (this.#directory.update(announcement, Date.now())) this.#reconcile();
  }

  #tick(): void {
    this.#directory.expire(Date.now());
    this.#reconcile();
    this.#announce();
    const now = Date.now();
    for (const feed of [...this.#origins.values()]) {
      if (now - feed.lastWanted > WANT_EXPIRES_MS) {
        this.#logger.info({ stream: feed.key, edge: feed.edge }, 'a node stopped asking for a stream: its feed is dropped');
        feed.drop();
      }
    }
  }

  /**
   * Brings feeds in line with the directory: a feed whose origin went silent, or whose stream another
   * node now holds live (the publisher moved), is replaced; a stream in its grace period here, with
   * players, that went live elsewhere is taken from there.
   */
  #reconcile(): void {
    if (!this.#bus) return;
    for (const wanted of this.#wanted.values()) {
      const feed = wanted.feed;
      if (feed?.active) {
        const holder = this.#directory.holder(wanted.key);
        const moved = holder !== undefined && holder.node !== feed.origin && holder.state === 'live';
        if (!moved && !feed.silent) continue;
        feed.stop(moved ? `the stream moved to node ${holder!.node}` : 'its origin went silent');
        wanted.feed = undefined;
      }
      if (wanted.players > 0) this.#ensureFeed(wanted);
    }
    for (const stats of this.#registry!.list()) {
      if (stats.state !== 'grace' || this.#wanted.has(stats.key) || stats.players + stats.waiting === 0) continue;
      if (this.#directory.holder(stats.key)?.state === 'live') this.demand(stats.key);
    }
  }

  // The edge side: streams coming here.

  #ensureFeed(wanted: Wanted): void {
    if (wanted.feed?.active || !this.#bus) return;
    // A publisher of this node holds it now: nothing to bring here.
    const channel = this.#registry!.get(wanted.key);
    if (channel?.state === 'live' && channel.publication?.info.node === undefined) return;
    const holder = this.#directory.holder(wanted.key);
    if (!holder) return;
    const feed = new EdgeFeed(wanted.key, holder.node, `${this.node}.${++this.#feedNumber}`, {
      bus: this.#bus,
      subjects: this.#subjects,
      registry: this.#registry!,
      logger: this.#logger,
      self: this.node,
      graceMs: DEFAULT_CHANNEL_SETTINGS.graceMs,
      counters: { bytes: (n) => this.#busBytes.inc({ direction: 'in' }, n), gap: () => this.#gaps.inc() },
      stopped: (stopped) => {
        if (wanted.feed === stopped) wanted.feed = undefined;
      },
    });
    wanted.feed = feed;
    this.#logger.info({ stream: wanted.key, origin: holder.node, feed: feed.id }, 'taking a stream from its origin node');
    feed.start();
  }

  #playersChanged(wanted: Wanted, players: number): void {
    wanted.players = players;
    if (players > 0) {
      clearTimeout(wanted.linger);
      wanted.linger = undefined;
      this.#ensureFeed(wanted);
      return;
    }
    if (wanted.linger) return;
    wanted.linger = setTimeout(() => this.#forget(wanted, 'no players here'), this.#settings!.lingerMs);
    wanted.linger.unref();
  }

  #forget(wanted: Wanted, why: string): void {
    clearTimeout(wanted.linger);
    wanted.unwatch();
    if (this.#wanted.get(wanted.key) === wanted) this.#wanted.delete(wanted.key);
    const feed = wanted.feed;
    wanted.feed = undefined;
    if (!feed) return;
    feed.stop(why);
    // Nobody here waits for its return: the channel need not sit out a grace period.
    const channel = this.#registry!.get(wanted.key);
    if (channel && channel.playerCount === 0 && channel.state === 'grace') this.#registry!.end(wanted.key, CLOSE.streamEnded, why);
  }

  // The origin side: streams going from here.

  #request(msg: Msg): void {
    let body: { op?: unknown; key?: unknown; feed?: unknown; edge?: unknown };
    try {
      body = JSON.parse(msg.string()) as typeof body;
    } catch {
      return;
    }
    const { op, key, feed, edge } = body;
    if (typeof key !== 'string' || typeof edge !== 'string') return;
    const reply = (answer: object) => {
      if (msg.reply) this.#bus?.publish(msg.reply, JSON.stringify(answer));
    };
    if (op === 'takeover') {
      if (!this.#originated.has(key)) return;
      this.#logger.info({ stream: key, by: edge }, 'another node took the stream over');
      this.#registry!.release(key, CLOSE.streamBusy, `another publisher took the stream over on node ${edge}`);
      return;
    }
    if (typeof feed !== 'string' || !/^[A-Za-z0-9_-]{1,64}\.\d{1,12}$/.test(feed)) return;
    if (op === 'unwant') {
      this.#origins.get(feed)?.drop();
      return;
    }
    if (op !== 'want') return;
    const existing = this.#origins.get(feed);
    if (existing && !existing.closed) {
      existing.lastWanted = Date.now();
      return reply({ ok: true });
    }
    if (!this.#originated.has(key) || !this.#registry!.hasLocal(key)) return reply({ ok: false, reason: `node ${this.node} does not hold ${key}` });
    this.#openOrigin(key, feed, edge);
    reply({ ok: true });
  }

  #openOrigin(key: string, feed: string, edge: string): void {
    const bus = this.#bus!;
    const subject = this.#subjects.feed(feed);
    const transport = new FeedTransport({
      id: `n-${++this.#originNumber}`,
      key,
      edge,
      send: (message) => {
        if (bus.publish(subject, message)) this.#busBytes.inc({ direction: 'out' }, message.length);
      },
      maxPayload: () => bus.maxPayload,
    });
    this.#origins.set(feed, transport);
    transport.onClose(() => {
      if (this.#origins.get(feed) === transport) this.#origins.delete(feed);
    });
    this.#logger.info({ stream: key, edge, feed }, 'sending a stream to another node');
    // No write window: a feed is one per node, and the edge's players batch on their own side.
    this.#registry!.play(transport, FEED_PLAY_OPTIONS);
  }

  #dropOrigins(): void {
    for (const feed of [...this.#origins.values()]) feed.drop();
    this.#origins.clear();
  }
}

const FEED_PLAY_OPTIONS = { coalesceMs: 0, waitForPublisherMs: 0 };
