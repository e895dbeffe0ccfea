/**
 * Muxed tags carved out of shared slabs, one `TagSlab` per channel.
 *
 * Every tag a publisher sends is muxed into a buffer that the GOP cache and the players' queues keep
 * for seconds. Given one ArrayBuffer each, a 2.5 Mb/s stream makes ~30 a second past node's 4 KB
 * pool, each a malloc, an external-memory report to V8 and an entry its collector sweeps; carved
 * from slabs, about two. A slab lives as long as its newest tag does, so it is per channel (one
 * stream's cache never holds another's memory) and sized to the stream: about `piecesPerSlab` of its
 * recent tags, a power of two between `minSlabBytes` and `maxSlabBytes`, so a quiet audio stream
 * holds a few KB beyond its tags and a busy one a fraction of a second of media.
 */
export class TagSlab {
  readonly minSlabBytes: number;
  readonly maxSlabBytes: number;
  readonly piecesPerSlab: number;
  #slab: Buffer | undefined;
  #used = 0;
  /** Requests since the current slab was made, carved or not, for the size of the next. */
  #requests = 0;
  #requestedBytes = 0;

  constructor(options: { minSlabBytes?: number; maxSlabBytes?: number; piecesPerSlab?: number } = {}) {
    this.minSlabBytes = options.minSlabBytes ?? 8 * 1024;
    this.maxSlabBytes = options.maxSlabBytes ?? 256 * 1024;
    this.piecesPerSlab = options.piecesPerSlab ?? 64;
    if (!(this.minSlabBytes >= 64 && this.minSlabBytes <= this.maxSlabBytes)) throw new RangeError('TagSlab: need 64 <= minSlabBytes <= maxSlabBytes');
    if (!(this.piecesPerSlab >= 1)) throw new RangeError('TagSlab: piecesPerSlab must be at least 1');
  }

  /** The current slab's size (0 before the first). */
  get slabBytes(): number {
    return this.#slab?.length ?? 0;
  }

  /** `size` bytes, uninitialised, in a slab shared with this channel's neighbouring tags. */
  readonly allocate = (size: number): Buffer => {
    let slab = this.#slab;
    this.#requests++;
    this.#requestedBytes += size;
    if (slab === undefined || this.#used + size > slab.length) {
      const mean = this.#requestedBytes / this.#requests;
      const bytes = Math.min(this.maxSlabBytes, Math.max(this.minSlabBytes, 2 ** Math.ceil(Math.log2(mean * this.piecesPerSlab))));
      // A piece bigger than a quarter of the slab (a keyframe well above the stream's mean) gets a
      // buffer of its own and leaves the slab as it was: a slab holds several tags or none.
      if (size > bytes / 4) return Buffer.allocUnsafeSlow(size);
      slab = this.#slab = Buffer.allocUnsafeSlow(bytes);
      this.#used = this.#requestedBytes = this.#requests = 0;
    } else if (size > slab.length / 4) {
      return Buffer.allocUnsafeSlow(size);
    }
    const piece = slab.subarray(this.#used, this.#used + size);
    // The next piece starts 8-aligned: the copies into it run on word boundaries.
    this.#used = (this.#used + size + 7) & ~7;
    return piece;
  };
}
