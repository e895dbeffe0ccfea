import type { ServiceIdentifier } from 'inversify';

/** Wall-clock and monotonic time behind one seam, so pacing and timeouts are testable. */
export interface Clock {
  /** Monotonic milliseconds (performance.now). */
  now(): number;
  /** Unix epoch milliseconds. */
  wallNow(): number;
}

export const CLOCK: ServiceIdentifier<Clock> = Symbol.for('wsflv.clock');

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
};
