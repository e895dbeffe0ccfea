import test from 'ava';
import { lastValueFrom, mergeMap, toArray } from 'rxjs';
import { systemClock } from '../core/clock.js';
import { FlvDemuxer } from '../core/flv/demuxer.js';
import { FileSource } from '../sources/file.js';
import { FIXTURES } from './helpers/packets.js';

const source = new FileSource(systemClock);

async function readAll(options: { path: string; realtime: boolean; loop: boolean }, stopAfterMs?: number) {
  const instance = source.create(options);
  if (stopAfterMs !== undefined) setTimeout(() => instance.stop?.(), stopAfterMs);
  const started = performance.now();
  const chunks = await lastValueFrom(instance.sessions$.pipe(mergeMap((s) => s.data$ as import('rxjs').Observable<Buffer>), toArray()));
  const packets = new FlvDemuxer().push(Buffer.concat(chunks));
  return { chunks, packets, elapsedMs: performance.now() - started };
}

test('raw mode reads the whole file as it is', async (t) => {
  const { readFileSync } = await import('node:fs');
  const { chunks } = await readAll({ path: FIXTURES.h264AacCropped, realtime: false, loop: false });
  t.true(Buffer.concat(chunks).equals(readFileSync(FIXTURES.h264AacCropped)));
});

test('realtime mode sends whole tags, paced: a 2 s file does not arrive in less than its media time', async (t) => {
  const { chunks, packets, elapsedMs } = await readAll({ path: FIXTURES.h264AacCropped, realtime: true, loop: false });
  t.true(chunks.length > packets.length / 2, 'one tag per chunk (plus the header)');
  const mediaMs = Math.max(...packets.map((p) => p.dts)) - Math.min(...packets.map((p) => p.dts));
  t.true(elapsedMs >= mediaMs - 50, `took ${elapsedMs.toFixed(0)} ms for ${mediaMs} ms of media`);
});

test('realtime + loop starts over (one FLV header, the tags again) until stopped', async (t) => {
  const { readFileSync } = await import('node:fs');
  const once = new FlvDemuxer().push(readFileSync(FIXTURES.h264AacCropped)).length;
  const { chunks, packets } = await readAll({ path: FIXTURES.h264AacCropped, realtime: true, loop: true }, 3000);
  t.is(chunks.filter((c) => c.subarray(0, 3).toString('latin1') === 'FLV').length, 1, 'the header is sent once');
  t.true(packets.length > once, `${packets.length} tags from a file of ${once}`);
});
