import { FlvDemuxer } from '../flv/demuxer.js';
import { muxFlvHeader } from '../flv/muxer.js';
import { DEFAULT_GOP_BOUNDS, GopCache } from '../live/gop-cache.js';
import { CLOSE, StreamBusyError } from '../live/close.js';
import type { Publication } from '../live/publication.js';
import type { LiveRegistry } from '../live/registry.js';
import type { Logger } from '../logger.js';
import type { MediaPacket } from '../media/packet.js';
import { BusMessageError, decodeBusMessage, decodeEnd } from './bus-message.js';
import type { ClusterBus } from './bus.js';
import { Reassembler } from './reassembler.js';
import type { Subjects } from './subjects.js';

/** How often an edge tells the origin it still wants the stream. */
export const WANT_EVERY_MS = 1000;
/** An origin that sent nothing for this long is taken for gone. */
const SILENT_MS = 4000;
const WANT_TIMEOUT_MS = 2000;

export interface EdgeFeedDeps {
  bus: ClusterBus;
  subjects: Subjects;
  registry: LiveRegistry;
  logger: Logger;
  /** This node. */
  self: string;
  graceMs: number;
  counters: { bytes(n: number): void; gap(): void };
  /** The feed stopped by itself (ended on its origin, refused, silent). */
  stopped(feed: EdgeFeed): void;
}

/**
 * One stream coming to this node from the node that holds it. It subscribes its own subject, asks the
 * origin for the stream (and keeps asking, so an origin that restarted or lost the bus starts a new
 * feed), puts the messages back into FLV, and publishes the packets into the local registry, where this
 * node's players (any transport) take them as from a local publisher. A gap in the numbering drops
 * media up to the next keyframe; a new feed from the origin is a publisher's return (timestamps go on).
 */
export class EdgeFeed {
  readonly key: string;
  readonly origin: string;
  readonly id: string;
  readonly #deps: EdgeFeedDeps;
  readonly #logger: Logger;
  readonly #reassembler = new Reassembler();
  #unsubscribe: (() => void) | undefined;
  #keepalive: NodeJS.Timeout | undefined;
  #publication: Publication | undefined;
  #demuxer: FlvDemuxer | undefined;
  /** Media is dropped until the next video keyframe (after a gap or a broken batch). */
  #waitKeyframe = false;
  #hasVideo = false;
  #lastMessageAt = Date.now();
  #stopped = false;
  #badMessages = 0;

  constructor(key: string, origin: string, id: string, deps: EdgeFeedDeps) {
    this.key = key;
    this.origin = origin;
    this.id = id;
    this.#deps = deps;
    this.#logger = deps.logger.child({ stream: key, origin, feed: id });
  }

  get active(): boolean {
    return !this.#stopped;
  }

  /** No message from the origin for a while: it died, or the bus cut it off. */
  get silent(): boolean {
    return Date.now() - this.#lastMessageAt > SILENT_MS;
  }

  get gaps(): number {
    return this.#reassembler.gaps;
  }

  start(): void {
    const { bus, subjects } = this.#deps;
    this.#unsubscribe = bus.subscribe(subjects.feed(this.id), (msg) => this.#message(msg.data));
    this.#lastMessageAt = Date.now();
    void this.#ask();
    this.#keepalive = setInterval(() => bus.publish(subjects.node(this.origin), this.#want('want')), WANT_EVERY_MS);
    this.#keepalive.unref();
  }

  /** Stops taking the stream: the origin is told, the local players keep the grace period. */
  stop(why: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#keepalive);
    this.#unsubscribe?.();
    this.#deps.bus.publish(this.#deps.subjects.node(this.origin), this.#want('unwant'));
    this.#publication?.end();
    this.#logger.info({ why }, 'stopped taking the stream from its origin');
  }

  #want(op: 'want' | 'unwant'): string {
    return JSON.stringify({ op, key: this.key, feed: this.id, edge: this.#deps.self });
  }

  async #ask(): Promise<void> {
    const answer = (await this.#deps.bus.request(this.#deps.subjects.node(this.origin), JSON.parse(this.#want('want')), WANT_TIMEOUT_MS)) as { ok?: boolean; reason?: string } | undefined;
    if (this.#stopped || answer?.ok !== false) return;
    this.#logger.info({ reason: answer.reason }, 'origin refused the stream');
    this.#stopSelf(`refused: ${answer.reason ?? 'no reason'}`);
  }

  #stopSelf(why: string): void {
    if (this.#stopped) return;
    this.stop(why);
    this.#deps.stopped(this);
  }

  #message(data: Uint8Array): void {
    if (this.#stopped) return;
    this.#lastMessageAt = Date.now();
    this.#deps.counters.bytes(data.length);
    let message;
    try {
      message = decodeBusMessage(data);
    } catch (error) {
      if (!(error instanceof BusMessageError)) throw error;
      if (this.#badMessages++ === 0) this.#logger.warn({ err: error }, 'dropped a bad message from the origin');
      this.#deps.counters.gap();
      this.#waitKeyframe = this.#hasVideo;
      this.#demuxer = undefined;
      return;
    }
    const gapsBefore = this.#reassembler.gaps;
    const result = this.#reassembler.push(message);
    if (this.#reassembler.gaps > gapsBefore) this.#deps.counters.gap();
    if (message.kind === 'end') {
      const { code, reason } = decodeEnd(message.payload);
      const current = this.#publication?.active === true;
      this.stop(`ended on its origin: ${reason}`);
      // An origin shutting down is not the stream ending: players keep the grace period, in case its
      // publisher comes back on another node.
      if (current && code !== CLOSE.goingAway) this.#deps.registry.end(this.key, code, reason);
      this.#deps.stopped(this);
      return;
    }
    if (result.type !== 'batch') return;
    if (result.start) this.#begin();
    else if (result.resync || !this.#demuxer) this.#resync();
    if (!this.#publication?.active) return;
    try {
      for (const packet of this.#demuxer!.push(result.bytes)) this.#push(packet);
    } catch (error) {
      // Whole batches that do not parse: start over at the next keyframe rather than stop the stream.
      if (this.#badMessages++ === 0) this.#logger.warn({ err: error }, 'a batch from the origin did not parse');
      this.#demuxer = undefined;
      this.#waitKeyframe = this.#hasVideo;
    }
  }

  /** The origin starts a feed for this node: header, metadata, sequence headers and GOP come first. */
  #begin(): void {
    // A feed that restarts (the origin lost the bus, or its publisher came back) is a returning publisher.
    this.#publication?.end();
    this.#publication = undefined;
    this.#demuxer = new FlvDemuxer();
    this.#waitKeyframe = false;
    try {
      const publication = this.#deps.registry.publish(this.key, {
        policy: 'reject',
        info: { id: this.id, node: this.origin },
        gop: new GopCache(DEFAULT_GOP_BOUNDS),
        graceMs: this.#deps.graceMs,
      });
      publication.onRevoked((_code, reason) => this.#stopSelf(`taken over here: ${reason}`));
      this.#publication = publication;
    } catch (error) {
      if (!(error instanceof StreamBusyError)) throw error;
      // A publisher of this node has the key now: it wins here, and the cluster hears of it.
      this.#stopSelf('a local publisher holds the stream');
    }
  }

  /** After lost messages: a fresh parser, and nothing but configurations until the next keyframe. */
  #resync(): void {
    if (!this.#publication?.active) {
      this.#begin();
      if (!this.#publication) return;
    }
    this.#demuxer = new FlvDemuxer();
    this.#demuxer.push(muxFlvHeader({ audio: true, video: true }));
    this.#waitKeyframe = true;
    this.#logger.debug({ gaps: this.#reassembler.gaps }, 'messages lost: waiting for the next keyframe');
  }

  #push(packet: MediaPacket): void {
    if (packet.kind === 'video') this.#hasVideo = true;
    if (this.#waitKeyframe) {
      if (packet.kind === 'video' && packet.keyframe && !packet.config) this.#waitKeyframe = false;
      else if (!packet.config && packet.kind !== 'script') return;
    }
    this.#publication!.push(packet);
  }
}
