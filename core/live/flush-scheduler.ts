import type { LivePlayer } from './player.js';
import { BatchJoiner } from './batch-joiner.js';
import { eventLoopBusy } from './write-load.js';

/** Below this event-loop busy share writes are cheap: no window, a tick's tags still go out together. */
export const ADAPTIVE_IDLE = 0.3;
/** From this busy share on the window is the configured maximum. */
export const ADAPTIVE_BUSY = 0.7;

/**
 * Write batching for every player sharing one window length: one timer for all of them rather than
 * one per player. The timer is armed by the first tag after a flush and writes each player's batch
 * when it fires, so a tag waits at most the window and a player gets at most one write per window.
 *
 * Fan-out CPU is per write, not per byte: with 1000 WebSocket players of a 0.9 Mb/s stream on
 * loopback (2 cores, the load generator sharing them), the README's bench:fanout run measured about
 * 430-450 µs of server CPU per player-second with a shared 20 ms window, against about 950 for a
 * plain `ws` broadcast that writes each message at once. The window costs latency, though, and
 * where writes are cheap there is nothing to save: `adaptive` windows follow the event loop's busy
 * share, none (the tags of one tick written together) below ADAPTIVE_IDLE, growing linearly to
 * `maxWindowMs` at ADAPTIVE_BUSY.
 */
export class FlushScheduler {
  readonly maxWindowMs: number;
  readonly adaptive: boolean;
  #windowMs: number;
  /**
   * Players to flush: `#queue[0..#queued)`. The array and its spare take turns, and slots are
   * overwritten rather than the arrays emptied (which would give up their storage), so a round allocates nothing.
   */
  #queue: (LivePlayer | undefined)[] = [];
  #queued = 0;
  #spare: (LivePlayer | undefined)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  readonly #onFlush: ((bytes: number, players: number) => void) | undefined;
  /** Batches joined once per round and stream, shared by the players holding the same frames. */
  readonly #joiner = new BatchJoiner();

  constructor(maxWindowMs: number, options: { adaptive?: boolean; onFlush?: (bytes: number, players: number) => void } = {}) {
    this.maxWindowMs = maxWindowMs;
    this.adaptive = options.adaptive ?? false;
    this.#windowMs = this.adaptive ? 0 : maxWindowMs;
    this.#onFlush = options.onFlush;
  }

  /** The window in force (ms): the last one armed. 0 means the tags of one tick are written together. */
  get windowMs(): number {
    return this.#windowMs;
  }

  schedule(player: LivePlayer): void {
    if (this.#queued < this.#queue.length) this.#queue[this.#queued] = player;
    else this.#queue.push(player);
    this.#queued++;
    if (this.#timer !== undefined || this.#immediate !== undefined) return;
    if (this.adaptive) this.#windowMs = windowFor(eventLoopBusy(), this.maxWindowMs);
    if (this.#windowMs < 1) {
      this.#immediate = setImmediate(this.#run);
      this.#immediate.unref();
    } else {
      this.#timer = setTimeout(this.#run, this.#windowMs);
      this.#timer.unref();
    }
  }

  /** Write every pending batch now. */
  flushAll(): void {
    this.#cancel();
    this.#run();
  }

  /** A batch as one Buffer: the same one for every player of this round holding the same frames. */
  join(frames: readonly Buffer[], count: number, bytes: number): Buffer {
    return this.#joiner.join(frames, count, bytes);
  }

  stop(): void {
    this.#cancel();
    this.#queue.fill(undefined, 0, this.#queued);
    this.#queued = 0;
  }

  #cancel(): void {
    clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = this.#immediate = undefined;
  }

  readonly #run = (): void => {
    this.#timer = this.#immediate = undefined;
    const queue = this.#queue;
    const players = this.#queued;
    // Players scheduled while this round runs (a flush that makes another) go to the other array.
    this.#queue = this.#spare;
    this.#queued = 0;
    let bytes = 0;
    for (let i = 0; i < players; i++) bytes += queue[i]!.flush();
    queue.fill(undefined, 0, players);
    this.#spare = queue;
    this.#joiner.reset();
    this.#onFlush?.(bytes, players);
  };
}

/** The adaptive window for an event-loop busy share: 0 up to ADAPTIVE_IDLE, `maxMs` from ADAPTIVE_BUSY, linear between (whole ms). */
export function windowFor(busy: number, maxMs: number): number {
  const share = Math.min(1, Math.max(0, (busy - ADAPTIVE_IDLE) / (ADAPTIVE_BUSY - ADAPTIVE_IDLE)));
  return Math.round(share * maxMs);
}
