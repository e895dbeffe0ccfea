import test from 'ava';
import fc from 'fast-check';
import { BUS_HEADER_BYTES, BusMessageError, decodeBusMessage, decodeEnd, encodeEnd, encodeMediaBatch } from '../core/cluster/bus-message.js';
import { parseAnnouncement, ClusterDirectory } from '../core/cluster/directory.js';
import { Reassembler } from '../core/cluster/reassembler.js';

const frames = fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }).map((a) => Buffer.from(a)), { minLength: 1, maxLength: 8 });

test('a batch split across messages no larger than the bus takes comes back whole, numbered in order', (t) => {
  fc.assert(
    fc.property(frames, fc.integer({ min: BUS_HEADER_BYTES + 1, max: 5000 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (batch, maxPayload, seq) => {
      const messages = encodeMediaBatch(batch, batch.length, seq, true, maxPayload);
      const decoded = messages.map((m) => decodeBusMessage(m));
      t.true(messages.every((m) => m.length <= maxPayload));
      t.deepEqual(decoded.map((m) => m.seq), decoded.map((_, i) => (seq + i) >>> 0));
      const r = new Reassembler();
      const results = decoded.map((m) => r.push(m));
      const last = results.at(-1)!;
      t.true(results.slice(0, -1).every((x) => x.type === 'none'));
      t.true(last.type === 'batch' && last.start && !last.resync && last.bytes.equals(Buffer.concat(batch)));
    }),
    { numRuns: 200 },
  );
});

test('a lost message drops its batch and flags the next whole batch for a resync at a keyframe', (t) => {
  fc.assert(
    fc.property(fc.array(frames, { minLength: 3, maxLength: 6 }), fc.nat(), (batches, pick) => {
      let seq = 0;
      const all = batches.map((batch, i) => {
        const messages = encodeMediaBatch(batch, batch.length, seq, i === 0, 2000);
        seq += messages.length;
        return messages;
      });
      const lostBatch = 1 + (pick % (all.length - 2));
      const lostPart = pick % all[lostBatch]!.length;
      const r = new Reassembler();
      const out: { bytes: Buffer; resync: boolean }[] = [];
      all.forEach((messages, b) =>
        messages.forEach((m, p) => {
          if (b === lostBatch && p === lostPart) return;
          const result = r.push(decodeBusMessage(m));
          if (result.type === 'batch') out.push(result);
        }),
      );
      const expected = batches.filter((_, i) => i !== lostBatch).map((b) => Buffer.concat(b));
      t.deepEqual(out.map((o) => o.bytes), expected);
      t.deepEqual(out.map((o) => o.resync), expected.map((_, i) => i === lostBatch));
      t.true(r.gaps >= 1);
    }),
    { numRuns: 150 },
  );
});

test('any bytes either decode as a bus message or throw BusMessageError; the reassembler takes whatever decodes', (t) => {
  const r = new Reassembler();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        const message = decodeBusMessage(bytes);
        t.true(message.part < message.parts);
        r.push(message);
      } catch (error) {
        t.true(error instanceof BusMessageError, String(error));
      }
    }),
    { numRuns: 2000 },
  );
});

test('an end message carries its close code and reason; a mangled one still ends the stream', (t) => {
  const end = decodeBusMessage(encodeEnd(7, 4410, 'the publisher ended the stream'));
  t.is(end.kind, 'end');
  t.deepEqual(decodeEnd(end.payload), { code: 4410, reason: 'the publisher ended the stream' });
  t.is(decodeEnd(Buffer.from('{"code": 99')).code, 4410);
  t.is(decodeEnd(Buffer.from('{"code": 12, "reason": 5}')).code, 4410);
});

test('announcements: anything that is not one is ignored; bad entries are left out; the directory prefers a live holder, then the earliest', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      parseAnnouncement(bytes);
    }),
    { numRuns: 1000 },
  );
  t.is(parseAnnouncement(Buffer.from('{"node":"a.b","streams":[]}')), undefined, 'a node name with a dot would break subjects');
  const a = parseAnnouncement(Buffer.from(JSON.stringify({ node: 'a', pid: 1, startedAt: 1, players: 2, streams: [{ key: 'live/x', state: 'grace', since: 5, players: 1 }, { key: '../etc', state: 'live' }] })))!;
  t.deepEqual(a.streams.map((s) => s.key), ['live/x']);
  const b = parseAnnouncement(Buffer.from(JSON.stringify({ node: 'b', pid: 2, startedAt: 1, players: 0, streams: [{ key: 'live/x', state: 'live', since: 9, players: 0 }] })))!;
  const c = parseAnnouncement(Buffer.from(JSON.stringify({ node: 'c', pid: 3, startedAt: 1, players: 0, streams: [{ key: 'live/x', state: 'live', since: 7, players: 0 }] })))!;
  const directory = new ClusterDirectory('self', 1000);
  for (const x of [a, b, c]) t.true(directory.update(x, 0));
  t.is(directory.holder('live/x')?.node, 'c', 'live before grace, then the earliest publisher');
  t.false(directory.update(c, 10), 'the same announcement again changes nothing');
  t.true(directory.expire(1500));
  t.is(directory.holder('live/x'), undefined, 'nodes not heard from are forgotten');
});
