/**
 * Muxed tags carved out of shared slabs, one `TagSlab` per channel.
 *
 * Every tag a publisher sends is muxed into a buffer of its own that the GOP cache and the players'
 * queues keep for seconds. Given one ArrayBuffer each, a 2.5 Mb/s stream makes ~30 a second past
 * node's 4 KB pool, each a malloc, an external-memory report to V8 and an entry its collector sweeps.
 * Carving them from 256 KB slabs makes that one a second. A slab lives as long as its newest tag
 * does: per channel, so one stream's cache never holds another's memory, and about one slab more
 * than the tags themselves.
 */
export class TagSlab {
  readonly slabBytes: number;
  /** Pieces above this get a buffer of their own: a slab holds several tags or none. */
  readonly maxPieceBytes: number;
  #slab: Buffer | undefined;
  #used = 0;

  constructor(slabBytes = 256 * 1024, maxPieceBytes = slabBytes / 4) {
    if (!(maxPieceBytes > 0 && maxPieceBytes <= slabBytes)) throw new RangeError('TagSlab: maxPieceBytes must be in (0, slabBytes]');
    this.slabBytes = slabBytes;
    this.maxPieceBytes = maxPieceBytes;
  }

  /** `size` bytes, uninitialised, in a slab shared with this channel's neighbouring tags. */
  readonly allocate = (size: number): Buffer => {
    if (size > this.maxPieceBytes) return Buffer.allocUnsafeSlow(size);
    if (this.#slab === undefined || this.#used + size > this.slabBytes) {
      this.#slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.#used = 0;
    }
    const piece = this.#slab.subarray(this.#used, this.#used + size);
    // The next piece starts 8-aligned: the copies into it run on word boundaries.
    this.#used = (this.#used + size + 7) & ~7;
    return piece;
  };
}
