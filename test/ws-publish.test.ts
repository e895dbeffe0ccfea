import test from 'ava';
import { CLOSE } from '../core/live/close.js';
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
  t.deepEqual(backwardSteps(got.packets), [], 'dts never goes back within a track');
}

/** Every tag whose dts is below the last one of its own track (audio and video tracked apart). */
function backwardSteps(packets: MediaPacket[]): string[] {
  const last: Partial<Record<'audio' | 'video', number>> = {};
  const steps: string[] = [];
  for (const [i, p] of packets.entries()) {
    if (p.kind === 'script') continue;
    const previous = last[p.kind];
    if (previous !== undefined && p.dts < previous) steps.push(`${p.kind} tag ${i}: ${p.dts} after ${previous}`);
    last[p.kind] = p.dts;
  }
  return steps;
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

/** A player waiting on `live/a`, then a publisher for it, both connected. */
async function playerThenPublisher(live: LiveApp): Promise<{ player: RecordingSocket; publisher: RecordingSocket }> {
  const player = new RecordingSocket(`${live.url('ws')}/live/a.flv`);
  await player.opened;
  const publisher = new RecordingSocket(`${live.url('ws')}/live/a.flv`, ['publisher']);
  await publisher.opened;
  return { player, publisher };
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
  const { player, publisher: first } = await playerThenPublisher(live);
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
  const { player, publisher } = await playerThenPublisher(live);
  publisher.ws.send(data.subarray(0, 200_001));
  await player.received(100_000);
  publisher.ws.terminate();
  t.is((await player.closed).code, CLOSE.streamEnded);
  const again = new RecordingSocket(`${live.url('ws')}/live/a.flv`, ['publisher']);
  await again.opened;
  again.ws.close();
  t.pass();
});

test("publisherPolicy takeover: a second publisher takes the stream; the first is closed with 4409, the player carries on", async (t) => {
  const live = await start({ sinkOptions: `${SINK_OPTIONS}, publisherPolicy: takeover` });
  t.teardown(() => live.stop());
  const data = fixture();
  const { player, publisher: first } = await playerThenPublisher(live);
  first.ws.send(data.subarray(0, 100_000));
  await player.received(50_000);

  const second = new RecordingSocket(`${live.url('ws')}/live/a.flv`, ['publisher']);
  await second.opened;
  sendInPieces(second.ws, data, () => 32 * 1024);
  const firstClosed = await first.closed;
  t.is(firstClosed.code, CLOSE.streamBusy);
  t.regex(firstClosed.reason, /another publisher took over/);
  t.is(player.ws.readyState, player.ws.OPEN, 'the player stays');
  second.ws.close(CLOSE.normal, 'done');
  t.is((await second.closed).code, CLOSE.normal);
  t.is((await player.closed).code, CLOSE.streamEnded);

  // One FLV stream (one header), the first publisher's start, then the whole of the second's.
  const got = parseFlv(player.data);
  t.true(got.hasAudio && got.hasVideo);
  const received = media(got.packets);
  const sent = media(parseFlv(data).packets);
  const videoConfigs = received.flatMap((p, i) => (p.kind === 'video' && p.config ? [i] : []));
  t.is(videoConfigs.length, 2, "each publisher's video sequence header");
  const fromFirst = received.slice(0, videoConfigs[1]);
  const fromSecond = received.slice(videoConfigs[1]);
  t.true(fromFirst.length > 10, `${fromFirst.length} tags of the first publisher`);
  t.true(fromFirst.length < sent.length, 'the first publisher only got its start out');
  t.true(fromFirst.every((p, i) => p.body.equals(sent[i]!.body)), "the first publisher's tags, in order");
  // The fixture opens with its video sequence header: the second publisher's tags start there.
  const secondAt = sent.findIndex((p) => p.kind === 'video' && p.config);
  t.is(secondAt, 0);
  t.is(fromSecond.length, sent.length - secondAt, "every tag of the second publisher");
  t.true(fromSecond.every((p, i) => p.kind === sent[secondAt + i]!.kind && p.body.equals(sent[secondAt + i]!.body)), "the second publisher's tags, byte-identical");
  const offset = fromSecond[0]!.dts - sent[secondAt]!.dts;
  t.true(offset > 0, 'the timeline goes on after the takeover');
  t.true(fromSecond.every((p, i) => p.config || p.dts === sent[secondAt + i]!.dts + offset), "shifted by one constant offset");
  t.deepEqual(backwardSteps(got.packets), [], 'dts never goes back within a track');
});

test('a user stage in a live chain: filter dropping audio after timestamps gives players video only', async (t) => {
  const yaml = livePipeline({ source: 'ws-publish', sinks: ['ws-play', 'http-play'], sinkOptions: SINK_OPTIONS.replace('headerWaitMs: 5000', 'headerWaitMs: 300') });
  const filtered = yaml.replace('stages: [flv-demux, timestamps]', 'stages: [flv-demux, timestamps, { type: filter, drop: [audio] }]');
  t.not(filtered, yaml);
  const live = await startLiveApp(filtered);
  t.teardown(() => live.stop());
  const data = fixture();
  const player = new RecordingSocket(`${live.url('ws')}/live/v.flv`);
  await player.opened;
  const publisher = new RecordingSocket(`${live.url('ws')}/live/v.flv`, ['publisher']);
  await publisher.opened;
  publisher.ws.send(data.subarray(0, 100_000));
  await player.received(13);
  publisher.ws.send(data.subarray(100_000));
  publisher.ws.close(CLOSE.normal, 'done');
  t.is((await player.closed).code, CLOSE.streamEnded);

  const got = parseFlv(player.data);
  t.false(got.hasAudio, 'FLV header: no audio flag');
  t.true(got.hasVideo, 'FLV header: video flag');
  const received = media(got.packets);
  t.false(received.some((p) => p.kind === 'audio'), 'no audio tag');
  const video = media(parseFlv(data).packets).filter((p) => p.kind === 'video');
  const start = received.findIndex((p) => !p.config);
  t.true(start > 0 && received[start]!.keyframe, 'the sequence header, then a keyframe');
  const join = video.findIndex((p) => !p.config && p.keyframe && p.body.equals(received[start]!.body));
  t.true(join >= 0);
  t.is(received.length - start, video.length - join, 'every video tag from the join point on');
  t.true(received.slice(start).every((p, i) => p.body.equals(video[join + i]!.body)), 'video untouched');
});
