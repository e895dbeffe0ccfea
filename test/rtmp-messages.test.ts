import test from 'ava';
import fc from 'fast-check';
import { encodeAmf0 } from '../core/flv/amf0.js';
import { FlvDemuxer } from '../core/flv/demuxer.js';
import { RtmpError, WsflvError } from '../core/errors.js';
import { decodeCommand, parseApp, parseStreamName } from '../core/rtmp/commands.js';
import { messageToFlv, RTMP_FLV_HEADER, rtmpFramer, unwrapDataFrame } from '../core/rtmp/flv-bridge.js';
import { ChunkReader } from '../core/rtmp/chunk-reader.js';
import { MSG } from '../core/rtmp/messages.js';
import { fixture, flvTags } from './helpers/live-clients.js';

test('a publisher\'s messages become FLV the demuxer reads as the same packets as the file', (t) => {
  const file = fixture();
  const tags = flvTags(file);
  const messages = tags.map(({ start, end, packet }) => ({ csid: 4, type: file[start]!, streamId: 1, timestamp: packet.dts, payload: file.subarray(start + 11, end - 4) }));
  const flv = Buffer.concat([RTMP_FLV_HEADER, ...messages.flatMap((m) => messageToFlv(m))]);
  const fromRtmp = new FlvDemuxer().push(flv);
  const fromFile = new FlvDemuxer().push(file);
  t.is(fromRtmp.length, fromFile.length);
  t.true(fromRtmp.every((p, i) => p.kind === fromFile[i]!.kind && p.dts === fromFile[i]!.dts && p.body.equals(fromFile[i]!.body)));
});

test('@setDataFrame is taken off onMetaData; the rtmp framing turns a tag into one message and the FLV header into nothing', (t) => {
  const wrapped = encodeAmf0(['@setDataFrame', 'onMetaData', { width: 640 }]);
  t.deepEqual(unwrapDataFrame(wrapped), encodeAmf0(['onMetaData', { width: 640 }]));
  const plain = encodeAmf0(['onTextData', { text: 'hi' }]);
  t.is(unwrapDataFrame(plain), plain);
  const frame = rtmpFramer(128);
  t.is(frame(RTMP_FLV_HEADER).length, 0);
  const [tag] = messageToFlv({ csid: 4, type: MSG.video, streamId: 1, timestamp: 0x1234567, payload: Buffer.alloc(300, 9) });
  const messages = new ChunkReader().push(frame(tag!));
  t.is(messages.length, 1);
  t.is(messages[0]!.type, MSG.video);
  t.is(messages[0]!.timestamp, 0x1234567);
  t.true(messages[0]!.payload.equals(Buffer.alloc(300, 9)));
});

test('stream names: query strings, codec prefixes, the app\'s own query', (t) => {
  t.deepEqual(parseStreamName('cam1?sign=abc&expires=99'), { stream: 'cam1', query: { sign: 'abc', expires: '99' } });
  t.deepEqual(parseStreamName('mp4:cam1'), { stream: 'cam1', query: {} });
  t.is(parseStreamName(''), undefined);
  t.is(parseStreamName(42), undefined);
  t.deepEqual(parseApp('live/?token=x'), { app: 'live', query: { token: 'x' } });
});

test('arbitrary command and data payloads: an RtmpError or a value, never anything else', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(MSG.commandAmf0, MSG.commandAmf3, MSG.dataAmf0, MSG.aggregate, MSG.audio), (bytes, type) => {
      const message = { csid: 3, type, streamId: 0, timestamp: 0, payload: Buffer.from(bytes) };
      try {
        if (type === MSG.commandAmf0 || type === MSG.commandAmf3) decodeCommand(message);
        else messageToFlv(message);
      } catch (error) {
        t.true(error instanceof RtmpError || error instanceof WsflvError, String(error));
      }
    }),
    { numRuns: 30_000 },
  );
});
