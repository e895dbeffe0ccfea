import test from 'ava';
import { BatchJoiner } from '../core/live/batch-joiner.js';

const frames = (...texts: string[]) => texts.map((x) => Buffer.from(x));
const bytes = (list: Buffer[]) => list.reduce((n, b) => n + b.length, 0);

test('joins a batch into one Buffer holding the frames in order', (t) => {
  const joiner = new BatchJoiner();
  const batch = frames('ab', 'cde', 'f');
  t.is(joiner.join(batch, 3, bytes(batch)).toString(), 'abcdef');
  t.is(joiner.join(batch, 2, 5).toString(), 'abcde', 'only frames[0..count)');
});

test('the same frames give back the same Buffer until reset; other frames a new one', (t) => {
  const joiner = new BatchJoiner();
  const batch = frames('ab', 'cd');
  const first = joiner.join(batch, 2, 4);
  t.is(joiner.join([...batch], 2, 4), first, 'another array of the same Buffer objects');
  // Equal bytes in other Buffer objects are other frames: identity is what says "the same tags".
  const lookalike = frames('ab', 'cd');
  const other = joiner.join(lookalike, 2, 4);
  t.not(other, first);
  t.is(other.toString(), 'abcd');
  t.not(joiner.join([lookalike[0]!, batch[1]!], 2, 4), other, 'one frame differs');
  joiner.reset();
  t.not(joiner.join(lookalike, 2, 4), other, 'nothing is remembered after a reset');
});
