import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/**
 * How busy this process's event loop is, as a share of wall time (0..1), smoothed over about a
 * second: the signal an adaptive write window follows. Sampled at most every SAMPLE_MS by whoever
 * asks, so it costs nothing while nobody writes.
 */
const SAMPLE_MS = 100;
/** Weight of each new sample: about ten samples (a second) make the average. */
const SMOOTHING = 0.1;

let last: EventLoopUtilization | undefined;
let lastAt = 0;
let smoothed = 0;

export function eventLoopBusy(now = performance.now()): number {
  if (now - lastAt < SAMPLE_MS) return smoothed;
  const current = performance.eventLoopUtilization();
  if (last) {
    const delta = performance.eventLoopUtilization(current, last);
    smoothed += (delta.utilization - smoothed) * SMOOTHING;
  }
  last = current;
  lastAt = now;
  return smoothed;
}
