import test from 'ava';
import fc from 'fast-check';
import { TagSlab } from '../core/live/tag-slab.js';

test('pieces come from one slab until it is full, 8-aligned and apart, then from a new one', (t) => {
  const slab = new TagSlab({ minSlabBytes: 1024, maxSlabBytes: 1024 });
  const sizes = [100, 13, 200, 7, 250, 240, 210];
  const pieces = sizes.map((size) => slab.allocate(size));
  pieces.forEach((piece, i) => {
    t.is(piece.length, sizes[i]!);
    t.is(piece.byteOffset % 8, 0);
  });
  // 100 → 104, 13 → 120, 200 → 320, 7 → 328, 250 → 584, 240 → 824; 210 more does not fit in 1024.
  t.deepEqual(pieces.slice(0, 6).map((p) => p.byteOffset - pieces[0]!.byteOffset), [0, 104, 120, 320, 328, 584]);
  t.true(pieces.slice(0, 6).every((p) => p.buffer === pieces[0]!.buffer));
  t.not(pieces[6]!.buffer, pieces[0]!.buffer);
  // Writing one piece leaves its neighbours alone.
  pieces.forEach((piece, i) => piece.fill(i + 1));
  pieces.forEach((piece, i) => t.true(piece.every((b) => b === i + 1)));
});

test('a piece above a quarter of the slab gets a buffer of its own and leaves the slab as it was', (t) => {
  const slab = new TagSlab({ minSlabBytes: 1024, maxSlabBytes: 1024 });
  const small = slab.allocate(10);
  const big = slab.allocate(257);
  t.is(big.length, 257);
  t.not(big.buffer, small.buffer);
  t.is(big.byteOffset, 0);
  const next = slab.allocate(10);
  t.is(next.buffer, small.buffer);
  t.is(next.byteOffset - small.byteOffset, 16);
});

test('slabs follow the stream: small for a quiet audio stream, the maximum for a busy video one', (t) => {
  const audio = new TagSlab();
  for (let i = 0; i < 200; i++) audio.allocate(400);
  // 64 pieces of 400 bytes: 25,600, rounded up to a power of two.
  t.is(audio.slabBytes, 32 * 1024);

  const video = new TagSlab();
  // A keyframe, then audio and video frames as a 2.5 Mb/s stream sends them.
  const sizes = [60_000, ...Array.from({ length: 300 }, (_, i) => (i % 5 < 2 ? 400 : 10_000))];
  const pieces = sizes.map((size) => video.allocate(size));
  t.is(video.slabBytes, 256 * 1024);
  // Video frames are carved too once the slab follows the mean, not only the small audio frames.
  const shared = pieces.slice(-20).filter((p) => p.length === 10_000 && p.buffer.byteLength === 256 * 1024);
  t.true(shared.length > 0);
});

test('options are checked', (t) => {
  t.throws(() => new TagSlab({ minSlabBytes: 2048, maxSlabBytes: 1024 }), { instanceOf: RangeError });
  t.throws(() => new TagSlab({ minSlabBytes: 8 }), { instanceOf: RangeError });
  t.throws(() => new TagSlab({ piecesPerSlab: 0 }), { instanceOf: RangeError });
});

test('pieces never overlap and keep their bytes, whatever the sizes (property)', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 128 }), (sizes, piecesPerSlab) => {
      const slab = new TagSlab({ minSlabBytes: 1024, maxSlabBytes: 64 * 1024, piecesPerSlab });
      const pieces = sizes.map((size, i) => slab.allocate(size).fill(i % 251));
      const bySlab = new Map<ArrayBufferLike, Buffer[]>();
      for (const piece of pieces) bySlab.set(piece.buffer, [...(bySlab.get(piece.buffer) ?? []), piece]);
      for (const group of bySlab.values()) {
        const sorted = [...group].sort((a, b) => a.byteOffset - b.byteOffset);
        for (let i = 1; i < sorted.length; i++) if (sorted[i - 1]!.byteOffset + sorted[i - 1]!.length > sorted[i]!.byteOffset) return false;
      }
      return pieces.every((piece, i) => piece.length === sizes[i] && piece.every((b) => b === i % 251));
    }),
    { numRuns: 200 },
  );
  t.pass();
});
