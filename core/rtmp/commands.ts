import { decodeAmf0, encodeAmf0 } from '../flv/amf0.js';
import { RtmpError } from '../errors.js';
import { CSID, MSG, type RtmpMessage } from './messages.js';

/** A decoded AMF0 (or AMF3-wrapped AMF0) command: `name(transaction, object, ...args)`. */
export interface RtmpCommand {
  name: string;
  transaction: number;
  object: Record<string, unknown> | null;
  args: unknown[];
  streamId: number;
}

export function decodeCommand(message: RtmpMessage): RtmpCommand {
  // An AMF3 command message starts with a format byte; the commands clients send are AMF0 after it.
  const body = message.type === MSG.commandAmf3 ? message.payload.subarray(1) : message.payload;
  let values: unknown[];
  try {
    values = decodeAmf0(body);
  } catch (error) {
    throw new RtmpError('WSFLV_ERR_RTMP_COMMAND', `RTMP: a command is not valid AMF0: ${(error as Error).message}`);
  }
  const [name, transaction, object, ...args] = values;
  if (typeof name !== 'string') throw new RtmpError('WSFLV_ERR_RTMP_COMMAND', 'RTMP: a command message does not start with its name');
  return {
    name,
    transaction: typeof transaction === 'number' ? transaction : 0,
    object: object !== null && typeof object === 'object' ? (object as Record<string, unknown>) : null,
    args,
    streamId: message.streamId,
  };
}

export function command(name: string, transaction: number, values: unknown[], streamId = 0): RtmpMessage {
  return { csid: CSID.command, type: MSG.commandAmf0, streamId, timestamp: 0, payload: encodeAmf0([name, transaction, ...values]) };
}

export function dataMessage(values: unknown[], streamId: number): RtmpMessage {
  return { csid: CSID.media, type: MSG.dataAmf0, streamId, timestamp: 0, payload: encodeAmf0(values) };
}

/** An `onStatus` event on a message stream: level `status` or `error`, a NetStream code and a description. */
export function onStatus(streamId: number, level: 'status' | 'error', code: string, description: string, extra: Record<string, unknown> = {}): RtmpMessage {
  return command('onStatus', 0, [null, { level, code, description, ...extra }], streamId);
}

/**
 * The stream name of `publish`/`play` as clients send it: `cam1`, `cam1?sign=…&expires=…`, or with
 * a codec prefix some players add (`mp4:cam1`, `flv:cam1`). The query becomes the stream's query,
 * as it would in an HTTP URL.
 */
export function parseStreamName(raw: unknown): { stream: string; query: Record<string, string> } | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048) return undefined;
  const mark = raw.indexOf('?');
  let stream = mark < 0 ? raw : raw.slice(0, mark);
  stream = stream.replace(/^(flv|mp4|f4v):/, '').replace(/\.flv$/, '');
  const query: Record<string, string> = {};
  if (mark >= 0) for (const [k, v] of new URLSearchParams(raw.slice(mark + 1))) query[k] ??= v;
  return { stream, query };
}

/** The app of `connect`: `live`, `live/` or `live?token=…` (a query on the app is kept for the stream). */
export function parseApp(raw: unknown): { app: string; query: Record<string, string> } | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 1024) return undefined;
  const mark = raw.indexOf('?');
  const app = (mark < 0 ? raw : raw.slice(0, mark)).replace(/\/+$/, '');
  const query: Record<string, string> = {};
  if (mark >= 0) for (const [k, v] of new URLSearchParams(raw.slice(mark + 1))) query[k] ??= v;
  return { app, query };
}
