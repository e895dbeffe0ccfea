/** One reading of a stream's byte counters. */
interface Sample {
  t: number;
  bytesIn: number;
  bytesOut: number;
}

export interface Rates {
  /** Bits per second over the window, 0 until two readings are at least a moment apart. */
  inBps: number;
  outBps: number;
}

/**
 * Bitrates of live streams over a moving window. `record` is called about once a second for every
 * stream (the API's sampler); `rates` compares the counters now with the oldest reading still inside
 * the window, so a rate is never older than the call and needs no per-tag bookkeeping.
 */
export class RateWindow {
  readonly #samples = new Map<string, Sample[]>();

  constructor(readonly windowMs = 5000) {}

  record(key: string, t: number, bytesIn: number, bytesOut: number): void {
    let samples = this.#samples.get(key);
    if (!samples) this.#samples.set(key, (samples = []));
    const last = samples[samples.length - 1];
    // A new channel on the same key starts its counters again: its history is not this one's.
    if (last && (bytesIn < last.bytesIn || bytesOut < last.bytesOut)) samples.length = 0;
    samples.push({ t, bytesIn, bytesOut });
    // Keep one reading at or before the window's start, so the window stays full.
    while (samples.length > 2 && samples[1]!.t <= t - this.windowMs) samples.shift();
  }

  rates(key: string, t: number, bytesIn: number, bytesOut: number): Rates {
    const samples = this.#samples.get(key);
    // Readings come about once a second: the oldest one up to a second past the window is still fair.
    const oldest = samples?.find((s) => t - s.t <= this.windowMs + 1000) ?? samples?.[samples.length - 1];
    if (!oldest || bytesIn < oldest.bytesIn || bytesOut < oldest.bytesOut) return { inBps: 0, outBps: 0 };
    const seconds = (t - oldest.t) / 1000;
    if (seconds < 0.2) return { inBps: 0, outBps: 0 };
    return {
      inBps: Math.round(((bytesIn - oldest.bytesIn) * 8) / seconds),
      outBps: Math.round(((bytesOut - oldest.bytesOut) * 8) / seconds),
    };
  }

  /** Forget every key not in `live`. */
  retain(live: ReadonlySet<string>): void {
    for (const key of this.#samples.keys()) if (!live.has(key)) this.#samples.delete(key);
  }
}
