import test from 'ava';
import { muxTag } from '../core/flv/muxer.js';
import { ChannelTag, FramedBuffer } from '../core/live/framed-tag.js';
import { ADAPTIVE_BUSY, ADAPTIVE_IDLE, FlushScheduler, windowFor } from '../core/live/flush-scheduler.js';
import { LivePlayer, type PlayerLimits } from '../core/live/player.js';
import { CLOSE } from '../core/live/close.js';
import type { MediaPacket } from '../core/media/packet.js';
import { delay, fixturePackets, ManualClock, MemoryTransport, socketPlayer } from './helpers/live.js';

const AV = fixturePackets('h264-aac-360p30-10s.flv');
const HEADER = new FramedBuffer(Buffer.from('FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00', 'latin1'));
const LIMITS: PlayerLimits = { maxQueueBytes: 100_000, maxQueueMs: 2000, stallTimeoutMs: 1000, coalesceMs: 0, coalesce: 'fixed' };

function channelTag(packet: MediaPacket, shift = 0): ChannelTag {
  return new ChannelTag(packet.kind, packet.dts + shift, packet.keyframe, packet.config, muxTag({ ...packet, dts: packet.dts + shift }));
}

const TAGS = AV.map((p) => channelTag(p));
const frame = (kind: 'audio' | 'video', dts: number, keyframe = false, config = false) =>
  new ChannelTag(kind, dts, keyframe || kind === 'audio', config, muxTag({ kind, dts, body: Buffer.alloc(100, dts & 0xff) }));

function makePlayer(limits: Partial<PlayerLimits> = {}, clock = new ManualClock(), scheduler?: FlushScheduler, byteStream = false) {
  const transport = new MemoryTransport('live/test');
  transport.byteStream = byteStream;
  const closed: { code: number | undefined; reason: string }[] = [];
  const player = new LivePlayer(transport, { ...LIMITS, ...limits }, {
    clock,
    scheduler,
    hooks: { closed: (_p, code, reason) => closed.push({ code, reason }) },
  });
  return { player, transport, closed, clock };
}

test('start writes header and snapshot in one batch at once; live tags follow one write each at window 0', (t) => {
  const { player, transport } = makePlayer();
  player.start(HEADER, TAGS.slice(0, 4), true);
  t.is(transport.writes.length, 1);
  t.is(transport.writes[0]!.length, 5);
  t.is(transport.writes[0]![0], HEADER.framed('ws'));
  player.offer(TAGS[4]!, 'video');
  player.offer(TAGS[5]!, 'video');
  t.is(transport.writes.length, 3);
  t.is(transport.writes[2]![0], TAGS[5]!.framed('ws'));
  t.is(player.tagsSent, 6);
  t.is(player.bytesSent, transport.frames.reduce((n, f) => n + f.length, 0));
});

test('a shared window gathers each player\'s tags into one write; every player gets the same buffers', async (t) => {
  const scheduler = new FlushScheduler(20);
  const players = [0, 1, 2].map(() => makePlayer({ coalesceMs: 20 }, new ManualClock(), scheduler));
  for (const { player } of players) player.start(HEADER, TAGS.slice(0, 4), true);
  for (const tag of TAGS.slice(4, 10)) for (const { player } of players) player.offer(tag, 'video');
  for (const { transport } of players) t.is(transport.writes.length, 1, 'nothing written before the window closes');
  await delay(60);
  for (const { transport } of players) {
    t.is(transport.writes.length, 2, 'one write for the whole window');
    t.is(transport.writes[1]!.length, 6);
  }
  const [a, b, c] = players.map(({ transport }) => transport.writes[1]!);
  a!.forEach((buffer, i) => {
    t.is(buffer, b![i], 'same Buffer object, not a copy');
    t.is(buffer, c![i]);
    t.is(buffer, TAGS[4 + i]!.framed('ws'));
  });
  scheduler.stop();
});

test('byte-stream transports get each window as one Buffer, the same object for every player holding the same frames', async (t) => {
  const scheduler = new FlushScheduler(20);
  const players = [0, 1, 2].map(() => makePlayer({ coalesceMs: 20 }, new ManualClock(), scheduler, true));
  for (const { player } of players) player.start(HEADER, TAGS.slice(0, 4), true);
  // The third player misses the window's first tag: its batch is other frames, so its own Buffer.
  for (const [i, tag] of TAGS.slice(4, 10).entries()) for (const [j, { player }] of players.entries()) if (i > 0 || j < 2) player.offer(tag, 'video');
  await delay(60);
  const [a, b, c] = players.map(({ transport }) => transport.writes[1]!);
  t.is(a!.length, 1, 'one buffer per write');
  t.is(a![0], b![0], 'shared, not copied per player');
  t.deepEqual(a![0], Buffer.concat(TAGS.slice(4, 10).map((tag) => tag.framed('ws'))));
  t.not(c![0], a![0]);
  t.deepEqual(c![0], Buffer.concat(TAGS.slice(5, 10).map((tag) => tag.framed('ws'))));
  for (const { player, transport } of players) {
    t.is(player.bytesSent, transport.frames.reduce((n, f) => n + f.length, 0));
    t.is(player.writes, 2);
  }
  t.is(players[0]!.player.tagsSent, 10);
  scheduler.stop();
});

test('a joiner without a keyframe waits for one (video streams: audio too), uncounted', (t) => {
  const { player, transport } = makePlayer();
  player.start(HEADER, [], false);
  player.offer(frame('audio', 10), 'video');
  player.offer(frame('video', 10), 'video');
  player.offer(frame('video', 20, false, true), 'video');
  t.is(transport.frames.length, 2, 'header and the configuration only');
  const key = frame('video', 40, true);
  player.offer(key, 'video');
  player.offer(frame('audio', 41), 'video');
  t.is(transport.frames.length, 4);
  t.is(transport.frames[2], key.framed('ws'));
  t.is(player.framesDropped, 0, 'waiting for the first keyframe is not a drop');
});

test('audio-only: the first audio frame is a starting point', (t) => {
  const { player, transport } = makePlayer();
  player.start(HEADER, [], false);
  const first = frame('audio', 10);
  player.offer(first, 'audio');
  t.is(transport.frames[1], first.framed('ws'));
});

test('over the byte bound: skip to the next keyframe, configurations pass, drops counted', (t) => {
  const { player, transport } = makePlayer();
  player.start(HEADER, [frame('video', 0, true)], true);
  transport.queued = LIMITS.maxQueueBytes + 1;
  player.offer(frame('video', 40), 'video');
  player.offer(frame('audio', 41), 'video');
  const config = frame('video', 60, false, true);
  player.offer(config, 'video');
  player.offer(frame('video', 80, true), 'video');
  t.is(player.framesDropped, 3, 'two frames and a keyframe that came while still over the bound');
  t.is(transport.frames.at(-1), config.framed('ws'), 'configurations are never dropped');
  transport.queued = 0;
  player.offer(frame('video', 120), 'video');
  player.offer(frame('audio', 121), 'video');
  t.is(player.framesDropped, 5, 'under the bound again, but frames still wait for a keyframe');
  const key = frame('video', 160, true);
  player.offer(key, 'video');
  const next = frame('video', 200);
  player.offer(next, 'video');
  t.deepEqual(transport.frames.slice(-2), [key.framed('ws'), next.framed('ws')]);
  t.is(player.framesDropped, 5);
});

test('over the media-time bound: the oldest undelivered tag is too far behind', (t) => {
  const { player, transport } = makePlayer();
  player.start(HEADER, [frame('video', 0, true)], true);
  // The kernel took nothing from here on: every write stays queued.
  transport.accumulate = true;
  for (let dts = 40; dts <= 2040; dts += 40) player.offer(frame('video', dts), 'video');
  t.is(player.framesDropped, 0, `${transport.queued} bytes, 40..2040 ms queued: within bounds`);
  player.offer(frame('video', 2080), 'video');
  t.is(player.framesDropped, 1, '40..2080 ms queued');
  // The peer reads everything: the next keyframe starts it again.
  transport.queued = 0;
  const key = frame('video', 2120, true);
  player.offer(key, 'video');
  t.is(player.framesDropped, 1);
  t.is(transport.frames.at(-1), key.framed('ws'));
});

test('a player over its bound for longer than stallTimeoutMs is closed with CLOSE.slowConsumer', (t) => {
  const { player, transport, closed, clock } = makePlayer();
  player.start(HEADER, [frame('video', 0, true)], true);
  transport.queued = LIMITS.maxQueueBytes + 1;
  player.offer(frame('video', 40), 'video');
  clock.t = 900;
  player.offer(frame('video', 80), 'video');
  t.is(player.state, 'live');
  clock.t = 1001;
  player.checkStall();
  t.is(player.state, 'closed', 'the sweep closes it without a new tag');
  t.is(transport.closedWith?.code, CLOSE.slowConsumer);
  t.regex(transport.closedWith!.reason, /fell behind.*1000 ms/);
  t.deepEqual(closed.map((c) => c.code), [CLOSE.slowConsumer]);
});

test('dipping under the bound resets the stall clock', (t) => {
  const { player, transport, clock } = makePlayer();
  player.start(HEADER, [frame('video', 0, true)], true);
  transport.queued = LIMITS.maxQueueBytes + 1;
  player.offer(frame('video', 40), 'video');
  clock.t = 800;
  transport.queued = 10;
  player.offer(frame('video', 80), 'video');
  transport.queued = LIMITS.maxQueueBytes + 1;
  clock.t = 1500;
  player.offer(frame('video', 120), 'video');
  t.is(player.state, 'live');
  clock.t = 2600;
  player.offer(frame('video', 160), 'video');
  t.is(player.state, 'closed');
});

test('configurations alone cannot grow a queue past twice the bound', (t) => {
  const { player, transport } = makePlayer({ stallTimeoutMs: 600_000 });
  player.start(HEADER, [frame('video', 0, true)], true);
  transport.accumulate = true;
  for (let i = 0; i < 3000 && player.state === 'live'; i++) {
    player.offer(frame('video', i, false, true), 'video');
    player.offer(frame('video', i), 'video');
  }
  t.is(player.state, 'closed');
  t.is(transport.closedWith?.code, CLOSE.slowConsumer);
  t.true(transport.queued <= 2 * LIMITS.maxQueueBytes + 200);
});

test('closing flushes what is pending when asked; a peer close needs no close call', async (t) => {
  const scheduler = new FlushScheduler(1000);
  const a = makePlayer({ coalesceMs: 1000 }, new ManualClock(), scheduler);
  a.player.start(HEADER, [TAGS[3]!], true);
  a.player.offer(TAGS[4]!, 'video');
  a.player.close(CLOSE.streamEnded, 'bye', true);
  t.is(a.transport.writes.length, 2);
  t.is(a.transport.closedWith?.code, CLOSE.streamEnded);
  const b = makePlayer({ coalesceMs: 1000 }, new ManualClock(), scheduler);
  b.player.start(HEADER, [TAGS[3]!], true);
  b.transport.peerClose();
  t.is(b.player.state, 'closed');
  t.deepEqual(b.closed, [{ code: undefined, reason: 'connection closed by peer' }]);
  t.is(b.transport.closedWith, undefined);
  scheduler.stop();
});

for (const coalesceMs of [0, 10]) {
  test(`a player that never reads stays bounded and is closed (real socket, window ${coalesceMs} ms)`, async (t) => {
    const limits: PlayerLimits = { maxQueueBytes: 256 * 1024, maxQueueMs: 3000, stallTimeoutMs: 300, coalesceMs, coalesce: 'fixed' };
    const scheduler = new FlushScheduler(Math.max(1, coalesceMs));
    const { transport, client } = await socketPlayer('live/test', 'ws', false);
    const player = new LivePlayer(transport, limits, {
      clock: { now: () => performance.now(), wallNow: () => Date.now() },
      scheduler,
      hooks: { closed: () => {} },
    });
    player.start(HEADER, TAGS.slice(0, 4), true);
    const biggest = Math.max(...TAGS.map((x) => x.framed('ws').length));
    let peak = 0;
    let offered = 0;
    const rssBefore = process.memoryUsage().rss;
    for (let loop = 0; loop < 200 && player.state === 'live'; loop++) {
      const shift = loop * 10_100;
      for (const packet of AV.slice(4)) {
        player.offer(channelTag(packet, shift), 'video');
        offered++;
        peak = Math.max(peak, player.queuedBytes);
      }
      await delay(15);
      peak = Math.max(peak, player.queuedBytes);
    }
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    t.is(player.state, 'closed', `still open after ${offered} tags`);
    t.is(transport.closedWith?.code, CLOSE.slowConsumer);
    t.true(player.framesDropped > 0);
    t.true(peak <= limits.maxQueueBytes + 2 * biggest, `peak queue ${peak} bytes`);
    t.true(rssGrowth < 64 * 1024 * 1024, `rss grew ${rssGrowth} bytes`);
    t.log(`${offered} tags offered, ${player.bytesSent} bytes written, ${player.framesDropped} dropped, peak queue ${peak} bytes`);
    client.socket.destroy();
    scheduler.stop();
  });
}

test('windowFor: no window while the event loop is idle, the maximum when busy, linear between', (t) => {
  t.is(windowFor(0, 20), 0);
  t.is(windowFor(ADAPTIVE_IDLE, 20), 0);
  t.is(windowFor((ADAPTIVE_IDLE + ADAPTIVE_BUSY) / 2, 20), 10);
  t.is(windowFor(ADAPTIVE_BUSY, 20), 20);
  t.is(windowFor(1, 20), 20);
});

test('an adaptive scheduler on an idle loop writes the tags of one tick together, at the next turn of the loop', async (t) => {
  const scheduler = new FlushScheduler(20, { adaptive: true });
  const flushed: string[] = [];
  const player = { flush: () => (flushed.push('batch'), 1) } as unknown as LivePlayer;
  scheduler.schedule(player);
  scheduler.schedule(player);
  t.is(scheduler.windowMs, 0, 'an idle test process: no window');
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  t.is(flushed.length, 2, 'both batches written in one run');
  scheduler.stop();
});
