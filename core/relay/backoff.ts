/** Waits between reconnection attempts: doubling from `minMs` to `maxMs`, with ±20% jitter, reset by a success. */
export class Backoff {
  #attempt = 0;
  constructor(
    readonly minMs: number,
    readonly maxMs: number,
  ) {}

  next(): number {
    const base = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.#attempt++, 20));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
