import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/**
 * How much of this process's time the fan-out's writes would take with no write window, as a share of
 * wall time (0..1, more when the loop could not keep up), smoothed over about a second: the signal an
 * adaptive write window follows.
 *
 * Why not the event loop's busy share itself: on a busy server most of it is socket writes, so a wider
 * window lowers it, and a window that follows it narrows again until the load is back: it settles
 * halfway, on neither latency nor CPU. Instead the time the flush rounds took (the writes) is scaled by
 * the tags each write carried, what the same load would cost at one write per tag, and the rest of
 * the busy time (parsing, offering tags to players) is taken as it is:
 * `busy + writing × (tags / writes − 1)`. That depends on the players and streams, not on the
 * window chosen for them, so the window it picks holds still.
 *
 * Sampled at most every SAMPLE_MS by whoever asks, so it costs nothing while nobody writes.
 */
const SAMPLE_MS = 100;
/** Weight of each new sample: about ten samples (a second) make the average. */
const SMOOTHING = 0.1;

let last: EventLoopUtilization | undefined;
let lastAt = 0;
let smoothed = 0;
let writes = 0;
let tags = 0;
let lastWrites = 0;
let lastTags = 0;
let writingMs = 0;
let lastWritingMs = 0;

/** One write to a player's connection carrying `tagCount` tags (called by every player's write). */
export function countWrite(tagCount: number): void {
  writes++;
  tags += tagCount;
}

/** A flush round (a scheduler writing its players' batches) took `ms`. */
export function countRound(ms: number): void {
  writingMs += ms;
}

/** The projected unbatched write load (see above), sampled now if the last sample is older than SAMPLE_MS. */
export function unbatchedLoad(now = performance.now()): number {
  if (now - lastAt < SAMPLE_MS) return smoothed;
  const current = performance.eventLoopUtilization();
  if (last) {
    const busy = performance.eventLoopUtilization(current, last).utilization;
    const writing = Math.min(busy, (writingMs - lastWritingMs) / (now - lastAt));
    const w = writes - lastWrites;
    const perWrite = w > 0 ? Math.max(1, (tags - lastTags) / w) : 1;
    smoothed += (busy + writing * (perWrite - 1) - smoothed) * SMOOTHING;
  }
  last = current;
  lastAt = now;
  lastWrites = writes;
  lastTags = tags;
  lastWritingMs = writingMs;
  return smoothed;
}
