/**
 * Joins a player's batch of frames into one Buffer, and hands the same Buffer to every other player
 * whose batch is the same frames, for as long as one flush round lasts.
 *
 * Why: a socket write of several buffers goes through node's cork/writev path, which allocates a
 * queue entry per buffer, an array of chunks and a write request per batch, per player. Players of
 * one stream flushed in the same round almost always hold the same frames (the tags since the last
 * window), so one copy per round and stream turns every player's batch into a single-buffer write,
 * which node hands to the kernel without any of that bookkeeping.
 *
 * Only the last join is remembered: players are flushed in the order they were scheduled, and the
 * players of one stream are scheduled together by the tag that opened the window.
 */
const NOTHING = Buffer.alloc(0);

export class BatchJoiner {
  #frames: Buffer[] = [];
  #count = 0;
  #joined: Buffer | undefined;

  /** `frames[0..count)` as one Buffer (`bytes` long): the last one made when it holds the same frames. */
  join(frames: readonly Buffer[], count: number, bytes: number): Buffer {
    if (this.#joined !== undefined && this.#joined.length === bytes && this.#count === count && this.#same(frames, count)) return this.#joined;
    const joined = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (let i = 0; i < count; i++) at += frames[i]!.copy(joined, at);
    const remembered = this.#frames;
    for (let i = 0; i < count; i++) {
      if (i < remembered.length) remembered[i] = frames[i]!;
      else remembered.push(frames[i]!);
    }
    this.#count = count;
    this.#joined = joined;
    return joined;
  }

  /** Forget the last join, so its buffers can be collected once the sockets are done with them. */
  reset(): void {
    // The array is kept (filled with an empty Buffer) so rounds do not reallocate it.
    this.#frames.fill(NOTHING, 0, this.#count);
    this.#count = 0;
    this.#joined = undefined;
  }

  #same(frames: readonly Buffer[], count: number): boolean {
    const remembered = this.#frames;
    for (let i = 0; i < count; i++) if (remembered[i] !== frames[i]) return false;
    return true;
  }
}
