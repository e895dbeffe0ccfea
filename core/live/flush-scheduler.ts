import type { LivePlayer } from './player.js';
import { performance } from 'node:perf_hooks';
import { BatchJoiner } from './batch-joiner.js';
import { countRound, unbatchedLoad } from './write-load.js';

/** Below this unbatched write load (core/live/write-load.ts) writes are cheap: no window, a tick's tags still go out together. */
export const ADAPTIVE_IDLE = 0.5;
/** From this load on the window is the configured maximum. */
export const ADAPTIVE_BUSY = 1;

/**
 * Write batching for every player sharing one window length: one timer for all of them rather than
 * one per player. The timer is armed by the first tag after a flush and writes each player's batch
 * when it fires, so a tag waits at most the window and a player gets at most one write per window.
 *
 * Fan-out CPU is per write, not per byte: with 1000 WebSocket players on loopback, a CPU profile puts
 * about 85% of the server's main thread in the write system call itself, so the only way to spend
 * less is fewer writes, each carrying more tags. The window costs latency, though, and where writes
 * are cheap there is nothing to save: `adaptive` windows follow the unbatched write load
 * (core/live/write-load.ts), none (the tags of one tick written together) below ADAPTIVE_IDLE,
 * growing linearly to `maxWindowMs` at ADAPTIVE_BUSY.
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
    if (this.adaptive) this.#windowMs = windowFor(unbatchedLoad(), this.maxWindowMs);
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
    this.#joiner.reset();
  }

  #cancel(): void {
    clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = this.#immediate = undefined;
  }

  readonly #run = (): void => {
    const started = performance.now();
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
    countRound(performance.now() - started);
    this.#onFlush?.(bytes, players);
  };
}

/** The adaptive window for an event-loop busy share: 0 up to ADAPTIVE_IDLE, `maxMs` from ADAPTIVE_BUSY, linear between (whole ms). */
export function windowFor(busy: number, maxMs: number): number {
  const share = Math.min(1, Math.max(0, (busy - ADAPTIVE_IDLE) / (ADAPTIVE_BUSY - ADAPTIVE_IDLE)));
  return Math.round(share * maxMs);
}
