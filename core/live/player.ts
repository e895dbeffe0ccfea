import type { FlushScheduler } from './flush-scheduler.js';
import type { Clock } from '../clock.js';
import type { LiveTag, PlayerTransport } from './types.js';
import { CLOSE } from './close.js';
import { countWrite } from './write-load.js';

export type Framing = PlayerTransport['framing'];

/** A tag (or the FLV header) that can hand out its bytes framed for a transport, framing each kind once. */
export interface Frameable {
  framed(framing: Framing): Buffer;
}

export type OutboundTag = LiveTag & Frameable;

/** What a reused batch slot holds once written. */
const NO_FRAME = Buffer.alloc(0);
/** The one-slot batch a joined write goes through (transports do not keep the array they are given). */
const ONE_FRAME: Buffer[] = [NO_FRAME];

export interface PlayerLimits {
  /** Bytes queued for the player (ours, not yet written, plus the transport's) before it skips ahead. */
  maxQueueBytes: number;
  /** Media time between the oldest undelivered tag and the newest one offered before it skips ahead. */
  maxQueueMs: number;
  /** A player over a bound for longer than this is closed with CLOSE.slowConsumer. */
  stallTimeoutMs: number;
  /** Tags for one player are gathered for up to this long and written as one batch; 0 writes at once. */
  coalesceMs: number;
  /** `adaptive`: the window follows the event loop's load, from none up to `coalesceMs`; `fixed`: always `coalesceMs`. */
  coalesce: 'adaptive' | 'fixed';
}

export const DEFAULT_PLAYER_LIMITS: Readonly<PlayerLimits> = {
  maxQueueBytes: 4 * 1024 * 1024,
  maxQueueMs: 8000,
  stallTimeoutMs: 10_000,
  coalesceMs: 40,
  coalesce: 'adaptive',
};

export interface PlayerStats {
  id: string;
  key: string;
  transport: PlayerTransport['transport'];
  address: string;
  state: PlayerState;
  /** When the player was sent its FLV header (ms, the clock's monotonic time), if it has been. */
  startedAt: number | undefined;
  bytesSent: number;
  tagsSent: number;
  /** Tags dropped because the player was over a bound (skip to the next keyframe). */
  framesDropped: number;
  queuedBytes: number;
}

export type PlayerState = 'waiting' | 'live' | 'closed';

export interface PlayerHooks {
  /** The player is gone: closed by us (with the code and reason) or by its peer (code undefined). */
  closed(player: LivePlayer, code: number | undefined, reason: string): void;
  /** Frames dropped by the skip-ahead policy (counted as they happen). */
  dropped?(count: number): void;
}

/**
 * One player's side of the fan-out: the queue policy and write batching for a single connection.
 *
 * Backpressure is measured, never buffered without bound. What counts as queued is what we hold (the
 * batch not yet written) plus what the transport holds (`queuedBytes`). Media time queued is the span
 * from the oldest tag whose bytes have not all left the transport to the newest one offered; it is
 * tracked with one mark per written batch, pruned as the transport drains, so a healthy player keeps
 * no marks at all.
 *
 * Past either bound the player skips ahead: it takes nothing but decoder configurations until a
 * keyframe arrives while it is back under both bounds, and every tag refused is counted. Staying over a
 * bound longer than `stallTimeoutMs`, or holding more than twice `maxQueueBytes` (configurations are
 * never refused, so a stream of them could still grow it), closes the player with CLOSE.slowConsumer.
 * Memory per player is therefore bounded by the limits, and the buffers queued are the channel's
 * shared ones, so N slow players on one stream cost far less than N times the bound.
 */
export class LivePlayer {
  readonly transport: PlayerTransport;
  readonly limits: Readonly<PlayerLimits>;
  readonly framing: Framing;
  state: PlayerState = 'waiting';
  startedAt: number | undefined;
  bytesSent = 0;
  tagsSent = 0;
  /** Calls to the transport's write: how well batching works is bytes or tags per write. */
  writes = 0;
  framesDropped = 0;

  readonly #clock: Clock;
  readonly #scheduler: FlushScheduler | undefined;
  readonly #hooks: PlayerHooks;
  /** Batches may reach the transport joined into one Buffer (its bytes are one stream). */
  readonly #joins: boolean;

  /**
   * The batch being gathered: `#pending[0..#pendingCount)`. One array per player, made at its first
   * batch and reused for every later one: a fresh array per write was a quarter of all the garbage the
   * fan-out made, and garbage is what grows a busy server's heap.
   */
  #pending: Buffer[] | undefined;
  #pendingCount = 0;
  #pendingBytes = 0;
  #pendingDts = NaN;
  #scheduled = false;
  /** Bytes handed to the transport so far. */
  #written = 0;
  /** Per written batch still (partly) in the transport: its end in `#written` terms, then its first dts. */
  #marks: number[] | undefined;
  #lastDts = NaN;

  /** Taking nothing but configurations until a sync point. */
  #syncing = true;
  /** Syncing because of a bound (refused tags are counted), not because of a join or a new publisher. */
  #skipping = false;
  #overSince: number | undefined;
  #deadline: NodeJS.Timeout | undefined;

  constructor(
    transport: PlayerTransport,
    limits: Readonly<PlayerLimits>,
    deps: { clock: Clock; scheduler?: FlushScheduler; hooks: PlayerHooks },
  ) {
    this.transport = transport;
    this.limits = limits;
    this.framing = transport.framing;
    this.#clock = deps.clock;
    this.#scheduler = limits.coalesceMs > 0 ? deps.scheduler : undefined;
    this.#hooks = deps.hooks;
    this.#joins = transport.byteStream === true && this.#scheduler !== undefined;
    transport.onClose(() => this.#gone(undefined, 'connection closed by peer'));
  }

  get id(): string {
    return this.transport.id;
  }

  get key(): string {
    return this.transport.key;
  }

  /** Run `onExpiry` after `ms` unless the player starts or closes first (waiting for a publisher). */
  setDeadline(ms: number, onExpiry: () => void): void {
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(onExpiry, ms);
    this.#deadline.unref();
  }

  clearDeadline(): void {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
  }

  /**
   * Send the FLV header and what the player needs to start (metadata, configurations, cached GOP)
   * in one write, without waiting for the batching window: time to first frame matters more here.
   * `keyframe` says whether `tags` contain a video keyframe to start decoding from.
   */
  start(header: Frameable, tags: readonly OutboundTag[], keyframe: boolean): void {
    if (this.state !== 'waiting') return;
    clearTimeout(this.#deadline);
    this.state = 'live';
    this.startedAt = this.#clock.now();
    const frames = [header.framed(this.framing)];
    let bytes = frames[0]!.length;
    // Configurations may carry timestamps from long ago; only media says how much time is queued.
    let firstDts = NaN;
    for (const tag of tags) {
      const frame = tag.framed(this.framing);
      frames.push(frame);
      bytes += frame.length;
      if (firstDts !== firstDts && !tag.config && tag.kind !== 'script') firstDts = tag.dts;
    }
    this.#syncing = !keyframe;
    this.#skipping = false;
    this.#write(frames, frames.length, bytes, firstDts);
    this.tagsSent += tags.length;
  }

  /** A new publisher session: decoding restarts at its first keyframe, which the player waits for. */
  resync(): void {
    this.#syncing = true;
    this.#skipping = false;
  }

  /**
   * A live tag. `syncKind` is the track a player may start on: video when the stream has video
   * (its keyframes), else audio (any frame).
   */
  offer(tag: OutboundTag, syncKind: 'audio' | 'video'): void {
    if (this.state !== 'live') return;
    if (tag.config) {
      this.#enqueue(tag);
      return;
    }
    this.#lastDts = tag.dts;
    const over = this.#overBound(tag.dts);
    if (this.state !== 'live') return;
    if (this.#syncing) {
      if (!over && tag.keyframe && tag.kind === syncKind) {
        this.#syncing = this.#skipping = false;
        this.#enqueue(tag);
      } else if (this.#skipping) {
        this.#drop();
      } else if (tag.kind === 'script') {
        // A returning publisher's onMetaData describes what the coming keyframe starts: let it through.
        this.#enqueue(tag);
      }
      return;
    }
    if (over) {
      this.#syncing = this.#skipping = true;
      this.#drop();
      return;
    }
    this.#enqueue(tag);
  }

  /** Write the pending batch, if any. Returns the bytes written. */
  flush(): number {
    this.#scheduled = false;
    const bytes = this.#pendingBytes;
    const frames = this.#pending;
    const count = this.#pendingCount;
    if (count === 0 || frames === undefined || this.state !== 'live') return 0;
    this.tagsSent += count;
    this.#pendingCount = 0;
    this.#pendingBytes = 0;
    countWrite(count);
    if (count > 1 && this.#joins) {
      // Several frames as one buffer shared with the round's other players: one plain write.
      const single = ONE_FRAME;
      single[0] = this.#scheduler!.join(frames, count, bytes);
      this.#write(single, 1, bytes, this.#pendingDts);
      single[0] = NO_FRAME;
    } else {
      this.#write(frames, count, bytes, this.#pendingDts);
    }
    // The transport is done with the array: drop the references so old frames can be collected.
    frames.fill(NO_FRAME, 0, count);
    return bytes;
  }

  /**
   * Re-evaluate the bounds without a new tag (the periodic sweep): a player stuck over a bound while the
   * stream is quiet is still closed in time.
   */
  checkStall(): void {
    if (this.state === 'live' && this.#overSince !== undefined && this.#lastDts === this.#lastDts) this.#overBound(this.#lastDts);
  }

  /**
   * Close with a WebSocket close code and a reason. `flush` first writes what is pending (a stream
   * that ended); a player closed for being slow gets nothing more.
   */
  close(code: number, reason: string, flush = false): void {
    if (this.state === 'closed') return;
    if (flush) this.flush();
    this.#gone(code, reason);
    this.transport.close(code, reason);
  }

  get queuedBytes(): number {
    return this.state === 'closed' ? 0 : this.#pendingBytes + this.transport.queuedBytes;
  }

  get stats(): PlayerStats {
    const t = this.transport;
    return {
      id: t.id,
      key: t.key,
      transport: t.transport,
      address: t.address,
      state: this.state,
      startedAt: this.startedAt,
      bytesSent: this.bytesSent,
      tagsSent: this.tagsSent,
      framesDropped: this.framesDropped,
      queuedBytes: this.queuedBytes,
    };
  }

  #enqueue(tag: OutboundTag): void {
    const frame = tag.framed(this.framing);
    if (this.#scheduler === undefined) {
      this.tagsSent++;
      countWrite(1);
      this.#write([frame], 1, frame.length, tag.dts);
      return;
    }
    const pending = (this.#pending ??= []);
    if (this.#pendingCount === 0) this.#pendingDts = tag.dts;
    if (this.#pendingCount < pending.length) pending[this.#pendingCount] = frame;
    else pending.push(frame);
    this.#pendingCount++;
    this.#pendingBytes += frame.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#scheduler.schedule(this);
    }
  }

  #write(frames: readonly Buffer[], count: number, bytes: number, firstDts: number): void {
    this.transport.write(frames, count);
    this.writes++;
    this.#written += bytes;
    this.bytesSent += bytes;
    if (this.transport.queuedBytes === 0) {
      // Everything reached the kernel: nothing is queued, whatever older marks said.
      this.#marks = undefined;
    } else if (this.#marks === undefined) {
      this.#marks = [this.#written, firstDts];
    } else {
      this.#marks.push(this.#written, firstDts);
    }
  }

  #drop(): void {
    this.framesDropped++;
    this.#hooks.dropped?.(1);
  }

  /** Whether a tag at `dts` would put the player over a bound; closes it when it has been too long. */
  #overBound(dts: number): boolean {
    const queued = this.#pendingBytes + this.transport.queuedBytes;
    let over = false;
    if (queued > 0) {
      const { maxQueueBytes, maxQueueMs } = this.limits;
      if (queued > 2 * maxQueueBytes) {
        this.close(CLOSE.slowConsumer, `player fell behind: ${queued} bytes queued, over twice the ${maxQueueBytes}-byte bound`);
        return true;
      }
      over = queued > maxQueueBytes || dts - this.#oldestQueuedDts() > maxQueueMs;
    }
    if (!over) {
      this.#overSince = undefined;
      return false;
    }
    const now = this.#clock.now();
    if (this.#overSince === undefined) this.#overSince = now;
    else if (now - this.#overSince > this.limits.stallTimeoutMs) {
      this.close(
        CLOSE.slowConsumer,
        `player fell behind: over its queue bound (${this.limits.maxQueueBytes} bytes / ${this.limits.maxQueueMs} ms) for more than ${this.limits.stallTimeoutMs} ms`,
      );
    }
    return true;
  }

  /** The dts of the oldest media tag not yet fully handed to the kernel (NaN when none: never over). */
  #oldestQueuedDts(): number {
    const drained = this.#written - this.transport.queuedBytes;
    const marks = this.#marks;
    if (marks !== undefined) {
      let gone = 0;
      while (gone < marks.length && marks[gone]! <= drained) gone += 2;
      if (gone === marks.length) this.#marks = undefined;
      else {
        if (gone > 0) marks.splice(0, gone);
        for (let i = 1; i < marks.length; i += 2) if (marks[i] === marks[i]) return marks[i]!;
      }
    }
    return this.#pendingBytes > 0 ? this.#pendingDts : NaN;
  }

  #gone(code: number | undefined, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.#deadline);
    this.#pending = undefined;
    this.#pendingCount = 0;
    this.#pendingBytes = 0;
    this.#marks = undefined;
    this.#hooks.closed(this, code, reason);
  }
}
