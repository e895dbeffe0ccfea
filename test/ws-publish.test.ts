import test from 'ava';
import { CLOSE } from '../core/live/types.js';
import type { MediaPacket } from '../core/media/packet.js';
import { livePipeline, startLiveApp, type LiveApp } from './helpers/live-app.js';
import { delay, fixture, flvTags, parseFlv, RecordingSocket, sendInPieces } from './helpers/live-clients.js';

/**
 * Players wait for the publisher, keep everything (no skip-ahead on loopback bursts), end at once; the
 * FLV header waits for both tracks however slow a loaded machine makes the first messages.
 */
const SINK_OPTIONS = 'waitForPublisherMs: 10000, maxQueueMs: 600000, maxQueueBytes: 67108864, graceMs: 0, headerWaitMs: 5000';

function start(options: Parameters<typeof livePipeline>[0] = {}): Promise<LiveApp> {
  return startLiveApp(livePipeline({ source: 'ws-publish', sinks: ['ws-play'], sinkOptions: SINK_OPTIONS, ...options }));
}

const media = (packets: MediaPacket[]) => packets.filter((p) => p.kind !== 'script');

/** The player got the fixture's audio and video, whole and in order. */
function assertSameMedia(t: import('ava').ExecutionContext, received: Buffer, sent: Buffer): void {
  const got = parseFlv(received);
  const want = parseFlv(sent);
  t.true(got.hasAudio && got.hasVideo);
  const a = media(got.packets);
  const b = media(want.packets);
  t.is(a.length, b.length);
  t.true(a.every((p, i) => p.kind === b[i]!.kind && p.body.equals(b[i]!.body)), 'same tag bodies in the same order');
  t.true(a.every((p, i) => i === 0 || p.dts >= a[i - 1]!.dts || p.kind !== a[i - 1]!.kind));
}

const chunkings: [string, (data: Buffer) => (at: number) => number][] = [
  [
    'one tag per message',
    (data) => {
      const tags = flvTags(data);
      const ends = new Map(tags.map((tag) => [tag.start, tag.end - tag.start]));
      const firstTag = tags[0]!.start;
      return (at) => (at === 0 ? firstTag : ends.get(at)!);
    },
  ],
  ['many tags per message', () => () => 64 * 1024],
  [
    'tags split across messages',
    () => {
      let seed = 7;
      return () => 1 + ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 700);
    },
  ],
];

for (const [name, chunking] of chunkings) {
  test(`publish with ${name}: players get every tag`, async (t) => {
    const live = await start();
    t.teardown(() => live.stop());
    const data = fixture();
    const player = new RecordingSocket(`${live.url('ws')}/live/a.flv`);
    await player.opened;
    const publisher = new RecordingSocket(`${live.url('ws')}/live/a.flv`, ['publisher']);
    await publisher.opened;
    sendInPieces(publisher.ws, data, chunking(data));
    publisher.ws.close(CLOSE.normal, 'done');
    t.is((await publisher.closed).code, CLOSE.normal);
    t.is((await player.closed).code, CLOSE.streamEnded);
    assertSameMedia(t, player.data, data);
  });
}

test('/publish?app&stream and /play?app&stream reach the same stream', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const data = fixture();
  const player = new RecordingSocket(`${live.url('ws')}/play?app=live&stream=q`);
  await player.opened;
  const publisher = new RecordingSocket(`${live.url('ws')}/publish?app=live&stream=q`);
  await publisher.opened;
  sendInPieces(publisher.ws, data, () => 32 * 1024);
  publisher.ws.close();
  await player.closed;
  assertSameMedia(t, player.data, data);
});

test('a garbage publisher is closed with 1007 and a reason; another stream keeps playing', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const data = fixture();
  const tags = flvTags(data);
  const half = tags[Math.floor(tags.length / 2)]!.start;

  const player = new RecordingSocket(`${live.url('ws')}/live/good.flv`);
  await player.opened;
  const good = new RecordingSocket(`${live.url('ws')}/live/good.flv`, ['publisher']);
  await good.opened;
  good.ws.send(data.subarray(0, half));
  await player.received(half / 2);

  const garbage = new RecordingSocket(`${live.url('ws')}/live/bad.flv`, ['publisher']);
  await garbage.opened;
  garbage.ws.send(Buffer.from('this is not an FLV stream at all'));
  const closed = await garbage.closed;
  t.is(closed.code, CLOSE.invalidPayload);
  t.regex(closed.reason, /not an FLV stream/);

  // Valid header, then a tag header with a type that does not exist.
  const broken = new RecordingSocket(`${live.url('ws')}/live/broken.flv`, ['publisher']);
  await broken.opened;
  broken.ws.send(Buffer.concat([data.subarray(0, tags[0]!.start), Buffer.from([0x07, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])]));
  const brokenClosed = await broken.closed;
  t.is(brokenClosed.code, CLOSE.invalidPayload);
  t.regex(brokenClosed.reason, /unknown tag type/);

  good.ws.send(data.subarray(half));
  good.ws.close();
  t.is((await player.closed).code, CLOSE.streamEnded);
  assertSameMedia(t, player.data, data);
});

test('a tag over the demuxer limit closes its publisher with 1009 naming the sizes', async (t) => {
  const live = await startLiveApp(
    livePipeline({ source: 'ws-publish', sinks: ['ws-play'], sinkOptions: SINK_OPTIONS }).replace(
      'stages: [flv-demux,',
      'stages: [{ type: flv-demux, maxTagSize: 2000 },',
    ),
  );
  t.teardown(() => live.stop());
  const publisher = new RecordingSocket(`${live.url('ws')}/live/big.flv`, ['publisher']);
  await publisher.opened;
  publisher.ws.send(fixture());
  const closed = await publisher.closed;
  t.is(closed.code, CLOSE.messageTooBig);
  t.regex(closed.reason, /exceeds the limit of 2000 bytes/);
});

test('a silent publisher is closed with 4408 after idleTimeoutMs', async (t) => {
  const live = await start({ sourceOptions: 'idleTimeoutMs: 300' });
  t.teardown(() => live.stop());
  const publisher = new RecordingSocket(`${live.url('ws')}/live/quiet.flv`, ['publisher']);
  await publisher.opened;
  const started = Date.now();
  publisher.ws.send(fixture().subarray(0, 13));
  const closed = await publisher.closed;
  t.is(closed.code, CLOSE.publisherIdle);
  t.regex(closed.reason, /no data for 0\.3 s/);
  t.true(Date.now() - started < 3000);
});

test('a second publisher on a live key is refused with 4409; the first goes on', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const data = fixture();
  const player = new RecordingSocket(`${live.url('ws')}/live/a.flv`);
  await player.opened;
  const first = new RecordingSocket(`${live.url('ws')}/live/a.flv`, ['publisher']);
  await first.opened;
  first.ws.send(data.subarray(0, 100_000));
  await player.received(50_000);
  const second = new RecordingSocket(`${live.url('ws')}/live/a.flv`, ['publisher']);
  await second.opened;
  second.ws.send(data.subarray(0, 1000));
  const closed = await second.closed;
  t.is(closed.code, CLOSE.streamBusy);
  t.regex(closed.reason, /already being published/);
  first.ws.send(data.subarray(100_000));
  first.ws.close();
  await player.closed;
  assertSameMedia(t, player.data, data);
});

test('stopping the app tells publishers the server is going away (1001)', async (t) => {
  const live = await start();
  const publisher = new RecordingSocket(`${live.url('ws')}/live/a.flv`, ['publisher']);
  await publisher.opened;
  publisher.ws.send(fixture().subarray(0, 50_000));
  await delay(100);
  t.true(await live.stop());
  t.is((await publisher.closed).code, CLOSE.goingAway);
});

test('a publisher that vanishes mid-tag ends its stream; the server keeps serving', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const data = fixture();
  const player = new RecordingSocket(`${live.url('ws')}/live/a.flv`);
  await player.opened;
  const publisher = new RecordingSocket(`${live.url('ws')}/live/a.flv`, ['publisher']);
  await publisher.opened;
  publisher.ws.send(data.subarray(0, 200_001));
  await player.received(100_000);
  publisher.ws.terminate();
  t.is((await player.closed).code, CLOSE.streamEnded);
  const again = new RecordingSocket(`${live.url('ws')}/live/a.flv`, ['publisher']);
  await again.opened;
  again.ws.close();
  t.pass();
});
