import test from 'ava';
import { dropTracks } from '../stages/filter.js';
import { packet, run } from './helpers/packets.js';

test('drops the listed kinds, keeps order of the rest', async (t) => {
  const input = [packet('script', 0), packet('video', 0), packet('audio', 10), packet('video', 33), packet('audio', 33)];
  const out = await run(input, dropTracks(['video']));
  t.deepEqual(out.map((p) => `${p.kind}@${p.dts}`), ['script@0', 'audio@10', 'audio@33']);
  t.deepEqual((await run(input, dropTracks(['audio', 'script']))).map((p) => p.kind), ['video', 'video']);
});
