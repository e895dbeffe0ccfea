import test from 'ava';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { LiveStreamTaps } from '../core/live/stream-taps.js';
import { fixturePackets } from './helpers/live.js';

const AV = fixturePackets('h264-aac-360p30-10s.flv');

test('a reader from the start gets every packet; the stream ends with its feed', async (t) => {
  const taps = new LiveStreamTaps();
  const stream = firstValueFrom(taps.streams$);
  const tap = taps.open('live/a', { transport: 'ws' }, ['ingest']);
  const { key, via, packets$ } = await stream;
  t.is(key, 'live/a');
  t.deepEqual(via, ['ingest']);
  const got = lastValueFrom(packets$.pipe(toArray()));
  for (const p of AV.slice(0, 100)) tap.push(p);
  tap.end();
  t.deepEqual(await got, AV.slice(0, 100));
});

test('a reader arriving mid-stream gets metadata and sequence headers, then starts at a video keyframe', async (t) => {
  const taps = new LiveStreamTaps();
  const tap = taps.open('live/a', { transport: 'ws' }, ['ingest']);
  const keyframes = AV.map((p, i) => (p.kind === 'video' && p.keyframe && !p.config ? i : -1)).filter((i) => i > 0);
  const cut = keyframes[0]! + 5;
  for (const p of AV.slice(0, cut)) tap.push(p);
  const late = await firstValueFrom(taps.streams$);
  const got = lastValueFrom(late.packets$.pipe(toArray()));
  for (const p of AV.slice(cut)) tap.push(p);
  tap.end();
  const packets = await got;
  const configs = packets.filter((p) => p.config);
  t.is(packets[0]!.script?.name, 'onMetaData');
  t.deepEqual(configs.map((p) => p.kind).sort(), ['audio', 'video']);
  const firstFrame = packets.find((p) => !p.config && p.kind !== 'script')!;
  t.true(firstFrame.kind === 'video' && firstFrame.keyframe, 'the first frame is a video keyframe');
  t.is(packets.at(-1), AV.at(-1));
});

test('close() ends every stream and the stream list', async (t) => {
  const taps = new LiveStreamTaps();
  taps.open('live/a', { transport: 'ws' }, []);
  const streams = lastValueFrom(taps.streams$.pipe(toArray()));
  taps.close();
  t.is((await streams).length, 1);
});
