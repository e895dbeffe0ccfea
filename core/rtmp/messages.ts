/** RTMP message type ids (Adobe RTMP spec §5.4 and §7.1). */
export const MSG = {
  setChunkSize: 1,
  abort: 2,
  ack: 3,
  userControl: 4,
  windowAckSize: 5,
  setPeerBandwidth: 6,
  audio: 8,
  video: 9,
  dataAmf3: 15,
  sharedObjectAmf3: 16,
  commandAmf3: 17,
  dataAmf0: 18,
  sharedObjectAmf0: 19,
  commandAmf0: 20,
  aggregate: 22,
} as const;

/** User Control event types (§7.1.7). */
export const USER_CONTROL = {
  streamBegin: 0,
  streamEof: 1,
  streamDry: 2,
  setBufferLength: 3,
  streamIsRecorded: 4,
  pingRequest: 6,
  pingResponse: 7,
} as const;

/** Chunk stream ids this server sends on: control, commands, data/audio/video. */
export const CSID = { control: 2, command: 3, media: 4, audio: 6, video: 7 } as const;

/** One reassembled RTMP message. */
export interface RtmpMessage {
  csid: number;
  type: number;
  streamId: number;
  /** Milliseconds, 32-bit, as the peer sent it (absolute after delta resolution). */
  timestamp: number;
  payload: Buffer;
}

function control(type: number, payload: Buffer): RtmpMessage {
  return { csid: CSID.control, type, streamId: 0, timestamp: 0, payload };
}

function u32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value >>> 0, 0);
  return b;
}

export const setChunkSize = (size: number) => control(MSG.setChunkSize, u32(size & 0x7fffffff));
export const windowAckSize = (size: number) => control(MSG.windowAckSize, u32(size));
export const acknowledgement = (sequence: number) => control(MSG.ack, u32(sequence));

/** Set Peer Bandwidth; limit type 2 = dynamic. */
export function setPeerBandwidth(size: number, limitType = 2): RtmpMessage {
  const b = Buffer.allocUnsafe(5);
  b.writeUInt32BE(size >>> 0, 0);
  b[4] = limitType;
  return control(MSG.setPeerBandwidth, b);
}

export function userControl(event: number, value: number): RtmpMessage {
  const b = Buffer.allocUnsafe(6);
  b.writeUInt16BE(event, 0);
  b.writeUInt32BE(value >>> 0, 2);
  return control(MSG.userControl, b);
}
