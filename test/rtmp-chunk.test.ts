import test from 'ava';
import fc from 'fast-check';
import { RtmpError } from '../core/errors.js';
import { ChunkReader } from '../core/rtmp/chunk-reader.js';
import { chunkMessage } from '../core/rtmp/chunk-writer.js';
import { MSG, setChunkSize, type RtmpMessage } from '../core/rtmp/messages.js';

const message = fc.record({
  csid: fc.oneof(fc.integer({ min: 3, max: 63 }), fc.integer({ min: 64, max: 319 }), fc.integer({ min: 320, max: 65599 })),
  type: fc.constantFrom(MSG.audio, MSG.video, MSG.dataAmf0, MSG.commandAmf0),
  streamId: fc.integer({ min: 0, max: 5 }),
  timestamp: fc.oneof(fc.integer({ min: 0, max: 0xfffffe }), fc.integer({ min: 0xffffff, max: 0xffffffff })),
  payload: fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
});

/** Split `data` at the given cut points (any split must parse the same). */
function split(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    parts.push(data.subarray(last, p));
    last = p;
  }
  parts.push(data.subarray(last));
  return parts;
}

function strip(m: RtmpMessage) {
  return { ...m, payload: m.payload.toString('hex') };
}

test('messages chunked at any size parse back identically, in any split (extended timestamps, 1-3 byte csids)', (t) => {
  fc.assert(
    fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 5000 }), fc.array(fc.nat(), { maxLength: 12 }), (messages, chunkSize, cuts) => {
      // Messages on distinct chunk streams: each first chunk is type 0, as the writer makes them.
      const wire = Buffer.concat([chunkMessage(setChunkSize(chunkSize), 128), ...messages.map((m) => chunkMessage(m, chunkSize))]);
      const reader = new ChunkReader();
      const got = split(wire, cuts).flatMap((part) => reader.push(part));
      t.deepEqual(got.map(strip), messages.map(strip));
    }),
    { numRuns: 20_000 },
  );
});

test('garbage and mutations never throw anything but an RtmpError, and never hold unbounded bytes', (t) => {
  const valid = Buffer.concat([chunkMessage({ csid: 4, type: MSG.video, streamId: 1, timestamp: 40, payload: Buffer.alloc(700, 7) }, 128), chunkMessage({ csid: 3, type: MSG.commandAmf0, streamId: 0, timestamp: 0, payload: Buffer.alloc(90, 2) }, 128)]);
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 6 }), (mutations, tail, cuts) => {
      const data = Buffer.concat([valid, Buffer.from(tail)]);
      for (const [at, value] of mutations) data[at] = value;
      const reader = new ChunkReader({ maxMessageBytes: 64 * 1024, maxChunkSize: 64 * 1024, maxChunkStreams: 8 });
      try {
        for (const part of split(data, cuts)) reader.push(part);
      } catch (error) {
        t.true(error instanceof RtmpError, String(error));
      }
    }),
    { numRuns: 50_000 },
  );
});

test('bounds: an oversized message, a huge chunk size, too many chunk streams, a headerless start', (t) => {
  const reader = () => new ChunkReader({ maxMessageBytes: 1000, maxChunkSize: 4096, maxChunkStreams: 2 });
  t.throws(() => reader().push(chunkMessage({ csid: 4, type: MSG.video, streamId: 1, timestamp: 0, payload: Buffer.alloc(1001) }, 128)), { code: 'WSFLV_ERR_RTMP_MESSAGE_TOO_LARGE' });
  t.throws(() => reader().push(chunkMessage(setChunkSize(1 << 30), 128)), { code: 'WSFLV_ERR_RTMP_CHUNK', message: /chunk size 1073741824 is outside/ });
  const many = Buffer.concat([3, 4, 5].map((csid) => chunkMessage({ csid, type: MSG.audio, streamId: 1, timestamp: 0, payload: Buffer.alloc(2) }, 128)));
  t.throws(() => reader().push(many), { message: /more than 2 chunk streams/ });
  t.throws(() => reader().push(Buffer.from([0xc4, 1, 2])), { message: /starts with a type 3 header/ });
});

test('type 1, 2 and 3 headers add their deltas; a type 3 new message repeats the last delta; Abort drops a partial message', (t) => {
  const reader = new ChunkReader();
  const bytes = Buffer.from([
    0x04, 0, 0, 100, 0, 0, 2, MSG.audio, 1, 0, 0, 0, 0xaa, 0xbb, // type 0: ts 100, 2 bytes
    0x44, 0, 0, 20, 0, 0, 1, MSG.audio, 0xcc, // type 1: +20, 1 byte
    0x84, 0, 0, 30, 0xdd, // type 2: +30, same length
    0xc4, 0xee, // type 3: +30 again
  ]);
  t.deepEqual(reader.push(bytes).map((m) => m.timestamp), [100, 120, 150, 180]);
  const partial = chunkMessage({ csid: 5, type: MSG.video, streamId: 1, timestamp: 0, payload: Buffer.alloc(300) }, 128).subarray(0, 140);
  t.deepEqual(reader.push(partial), []);
  const abort = chunkMessage({ csid: 2, type: MSG.abort, streamId: 0, timestamp: 0, payload: Buffer.from([0, 0, 0, 5]) }, 128);
  t.deepEqual(reader.push(abort), []);
  const next = reader.push(chunkMessage({ csid: 5, type: MSG.video, streamId: 1, timestamp: 9, payload: Buffer.alloc(3, 1) }, 128));
  t.is(next.length, 1);
  t.is(next[0]!.payload.length, 3);
});
