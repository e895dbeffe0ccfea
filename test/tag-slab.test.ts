import test from 'ava';
import { TagSlab } from '../core/live/tag-slab.js';

test('pieces come from one slab until it is full, 8-aligned and apart, then from a new one', (t) => {
  const slab = new TagSlab(1024, 512);
  const sizes = [100, 13, 500, 7, 400];
  const pieces = sizes.map((size) => slab.allocate(size));
  pieces.forEach((piece, i) => {
    t.is(piece.length, sizes[i]!);
    t.is(piece.byteOffset % 8, 0);
  });
  // 100 → 104, 13 → 120, 500 → 624, 7 → 632; 400 more does not fit in 1024.
  t.is(pieces[0]!.buffer, pieces[3]!.buffer);
  t.deepEqual(pieces.slice(0, 4).map((p) => p.byteOffset - pieces[0]!.byteOffset), [0, 104, 120, 624]);
  t.not(pieces[4]!.buffer, pieces[0]!.buffer);
  t.is(pieces[4]!.byteOffset, 0);
  // Writing one piece leaves its neighbours alone.
  pieces.forEach((piece, i) => piece.fill(i + 1));
  pieces.forEach((piece, i) => t.true(piece.every((b) => b === i + 1)));
});

test('a piece above maxPieceBytes gets a buffer of its own and leaves the slab as it was', (t) => {
  const slab = new TagSlab(1024, 256);
  const small = slab.allocate(10);
  const big = slab.allocate(257);
  t.is(big.length, 257);
  t.not(big.buffer, small.buffer);
  t.is(big.byteOffset, 0);
  const next = slab.allocate(10);
  t.is(next.buffer, small.buffer);
  t.is(next.byteOffset - small.byteOffset, 16);
});

test('maxPieceBytes must fit in a slab', (t) => {
  t.throws(() => new TagSlab(1024, 2048), { instanceOf: RangeError });
  t.throws(() => new TagSlab(1024, 0), { instanceOf: RangeError });
});
