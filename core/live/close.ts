import { StreamError } from '../pipeline/stream-error.js';

/**
 * The live server's protocol of endings: the close codes every transport speaks (WebSocket codes,
 * mapped to HTTP statuses and RTMP NetStream statuses at the edges) and the errors that carry them.
 */

/** WebSocket close codes used by the live server, stable across versions. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
  // Application codes (4000-4999): specific live-stream outcomes a player or publisher can act on.
  /** Access control: no valid URL signature (HTTP 401). */
  unauthorized: 4401,
  /** Access control: refused (an expired signature, an on_publish / on_play hook said no; HTTP 403). */
  forbidden: 4403,
  streamNotFound: 4404,
  streamBusy: 4409,
  streamEnded: 4410,
  slowConsumer: 4429,
  publisherIdle: 4408,
} as const;

/**
 * A live-side refusal that the peer should hear about: the publish source closes its connection with
 * `closeCode` and the message as the reason. A StreamError: it ends the whole stream, whichever play
 * sink's feed raised it.
 */
export class LiveCloseError extends StreamError {
  constructor(code: string, closeCode: number, message: string) {
    super({ code, reason: message, close: { ws: closeCode } });
  }
}

/** A publisher arrived on a key that is already being published, under the 'reject' policy. */
export class StreamBusyError extends LiveCloseError {
  /** `node`: the cluster node that holds it, when it is not this one. */
  constructor(key: string, node?: string) {
    super('WSFLV_ERR_STREAM_BUSY', CLOSE.streamBusy, `stream ${key} is already being published${node === undefined ? '' : ` on node ${node}`}`);
  }
}

/** The stream was taken from this publisher: another one took it over, or the server is stopping. */
export class PublisherRevokedError extends LiveCloseError {
  constructor(closeCode: number, reason: string) {
    super('WSFLV_ERR_PUBLISHER_REVOKED', closeCode, reason);
  }
}
