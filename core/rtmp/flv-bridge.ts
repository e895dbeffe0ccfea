import { decodeAmf0, encodeAmf0 } from '../flv/amf0.js';
import { muxFlvHeader } from '../flv/muxer.js';
import { TAG_TYPE } from '../media/packet.js';
import { chunkMessage } from './chunk-writer.js';
import { CSID, MSG, type RtmpMessage } from './messages.js';

/**
 * RTMP media messages and FLV tags carry the same bodies: a publisher's messages become FLV tags
 * (so the `flv-demux` stage makes of them exactly the packets it makes of an FLV file or a
 * WebSocket publisher), and the live channel's FLV tags become RTMP messages for RTMP players.
 */

/** The FLV header an RTMP publisher's byte stream starts with; the tracks are learned from the tags. */
export const RTMP_FLV_HEADER = muxFlvHeader({ audio: true, video: true });

/** One FLV tag (header, body, PreviousTagSize) for a message body. */
export function flvTag(type: number, timestamp: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(11 + body.length + 4);
  out[0] = type;
  out.writeUIntBE(body.length, 1, 3);
  out.writeUIntBE(timestamp & 0xffffff, 4, 3);
  out[7] = (timestamp >>> 24) & 0xff;
  out.writeUIntBE(0, 8, 3);
  body.copy(out, 11);
  out.writeUInt32BE(11 + body.length, 11 + body.length);
  return out;
}

/**
 * The FLV tags a publisher's message carries: audio and video as they are; data messages as script
 * tags with an `@setDataFrame` wrapper taken off (that is how publishers send onMetaData); AMF3
 * data (type 15) from its AMF0 body; aggregate messages split into their tags, re-timed to the
 * aggregate's timestamp. Anything else carries no media: an empty list.
 */
export function messageToFlv(message: RtmpMessage): Buffer[] {
  switch (message.type) {
    case MSG.audio:
    case MSG.video:
      return message.payload.length === 0 ? [] : [flvTag(message.type, message.timestamp, message.payload)];
    case MSG.dataAmf0:
    case MSG.dataAmf3: {
      const body = message.type === MSG.dataAmf3 ? message.payload.subarray(1) : message.payload;
      return [flvTag(TAG_TYPE.script, message.timestamp, unwrapDataFrame(body))];
    }
    case MSG.aggregate:
      return splitAggregate(message);
    default:
      return [];
  }
}

/** `@setDataFrame("onMetaData", {...})` becomes `onMetaData({...})`; other bodies stay as they are. */
export function unwrapDataFrame(body: Buffer): Buffer {
  // 0x02 0x00 0x0d "@setDataFrame": checked on the bytes, so only that message is re-encoded.
  if (body.length < 16 || body[0] !== 0x02 || body.readUInt16BE(1) !== 13 || body.toString('latin1', 3, 16) !== '@setDataFrame') return body;
  const values = decodeAmf0(body);
  return encodeAmf0(values.slice(1));
}

function splitAggregate(message: RtmpMessage): Buffer[] {
  const out: Buffer[] = [];
  const data = message.payload;
  let base: number | undefined;
  let at = 0;
  while (data.length - at >= 11) {
    const type = data[at]!;
    const size = data.readUIntBE(at + 1, 3);
    const timestamp = data.readUIntBE(at + 4, 3) | (data[at + 7]! << 24);
    if (data.length - at < 11 + size) break;
    base ??= timestamp;
    if (type === TAG_TYPE.audio || type === TAG_TYPE.video || type === TAG_TYPE.script) {
      out.push(flvTag(type, (message.timestamp + (timestamp - base)) >>> 0, data.subarray(at + 11, at + 11 + size)));
    }
    at += 11 + size + 4;
  }
  return out;
}

/** The message stream id RTMP players get their media on (the one `createStream` answered). */
export const PLAY_STREAM_ID = 1;

const EMPTY = Buffer.alloc(0);

/**
 * The RTMP framing of one FLV tag for players: one message with an absolute (type 0) header on the
 * chunk stream of its kind, chunked at `chunkSize`. The FLV header has no RTMP form: empty.
 */
export function rtmpFramer(chunkSize: number): (flv: Buffer) => Buffer {
  let framer = framers.get(chunkSize);
  if (!framer) framers.set(chunkSize, (framer = makeRtmpFramer(chunkSize)));
  return framer;
}

/** One framer per chunk size, so servers of one process (tests, workers) share a framing. */
const framers = new Map<number, (flv: Buffer) => Buffer>();

function makeRtmpFramer(chunkSize: number): (flv: Buffer) => Buffer {
  return (flv) => {
    if (flv.length < 15 || flv[0] === 0x46 /* 'F' of an FLV header */) return EMPTY;
    const type = flv[0]! & 0x1f;
    const size = flv.readUIntBE(1, 3);
    const timestamp = (flv.readUIntBE(4, 3) | (flv[7]! << 24)) >>> 0;
    const csid = type === TAG_TYPE.audio ? CSID.audio : type === TAG_TYPE.video ? CSID.video : CSID.media;
    const messageType = type === TAG_TYPE.script ? MSG.dataAmf0 : type;
    return chunkMessage({ csid, type: messageType, streamId: PLAY_STREAM_ID, timestamp, payload: EMPTY }, chunkSize, flv.subarray(11, 11 + size));
  };
}
