import { WsflvError } from '../errors.js';

/**
 * How a stream ended on purpose is told to each kind of peer: a WebSocket close code (publishers and
 * players), an HTTP status (an HTTP publisher that has not had its answer yet) and an RTMP
 * `NetStream` status code.
 */
export interface StreamClose {
  /** 4000-4999 for application reasons; 1000-1014 where a standard code says it better. */
  ws: number;
  http: number;
  /** e.g. `NetStream.Publish.BadName`, `NetStream.Play.Failed`. */
  rtmp: string;
}

/** What a stream error is closed with when its author does not say: "ended on purpose, do not retry at once". */
export const DEFAULT_STREAM_CLOSE: StreamClose = { ws: 4000, http: 409, rtmp: 'NetStream.Publish.Rejected' };

export interface StreamErrorInit {
  /** A stable `WSFLV_ERR_*` (or a plugin's own `PLUGIN_ERR_*`) code, for logs, metrics and callers. */
  code: string;
  /** Said to the peer (a WebSocket close reason is cut to 123 bytes). */
  reason: string;
  close?: Partial<StreamClose>;
  cause?: unknown;
}

/**
 * Ends one stream on purpose, from any stage or sink: the runtime ends that stream (whatever raised
 * it, even a sink's own branch), the publisher is closed with `close.ws` / `close.http` /
 * `close.rtmp` and `reason`, and the stream's players are closed at once with the same code and
 * reason, not held for the publisher's grace period. Any other error a sink raises ends only that
 * sink; any other error on the trunk ends the stream as an internal error (1011), players kept for
 * the grace period in case the publisher returns.
 *
 * ```ts
 * throw new StreamError({ code: 'PLUGIN_ERR_NO_AUDIO', reason: 'this service needs an audio track', close: { ws: 4415, http: 415 } });
 * ```
 */
export class StreamError extends WsflvError {
  readonly reason: string;
  readonly close: StreamClose;

  constructor(init: StreamErrorInit) {
    super(init.code, init.reason, init.cause === undefined ? undefined : { cause: init.cause });
    this.reason = init.reason;
    this.close = { ...DEFAULT_STREAM_CLOSE, ...init.close };
  }

  /** The WebSocket close code: the one place every live transport reads first. */
  get closeCode(): number {
    return this.close.ws;
  }
}

export function isStreamError(error: unknown): error is StreamError {
  return error instanceof StreamError;
}
