import { FlvError, FlvTagTooLargeError } from '../errors.js';
import { LiveCloseError } from '../live/close.js';
import type { CloseDetail } from '../live/types.js';
import { CLOSE } from '../live/close.js';
import { StreamError } from '../pipeline/stream-error.js';

/** A close code and the reason sent with it. */
export interface CloseReason {
  code: number;
  reason: string;
  /** For HTTP and RTMP peers, when the code alone does not say what is meant. */
  detail?: CloseDetail;
}

/**
 * Why a publisher's stream failed, as the publisher is told: the close code says what class of problem
 * (bad data, too big, our fault), the reason names it (the FlvError message carries the byte offset).
 */
export function closeReasonFor(error: Error): CloseReason {
  // The live side already chose the code: stream busy (4409), taken over, server stopping; the HTTP status follows it.
  if (error instanceof LiveCloseError) return { code: error.closeCode, reason: error.message };
  // A component ended the stream on purpose and said how each kind of peer is told.
  if (error instanceof StreamError) return { code: sendableCloseCode(error.close.ws), reason: error.reason, detail: { httpStatus: error.close.http, rtmpStatus: error.close.rtmp } };
  if (error instanceof FlvTagTooLargeError) return { code: CLOSE.messageTooBig, reason: error.message };
  if (error instanceof FlvError) return { code: CLOSE.invalidPayload, reason: error.message };
  return { code: CLOSE.internalError, reason: 'internal error' };
}

/** The HTTP status that says what a close code says, for peers that have not had their headers yet. */
export function httpStatusFor(code: number): number {
  switch (code) {
    case CLOSE.normal: return 200;
    case CLOSE.goingAway: return 503;
    case CLOSE.unsupportedData: return 415;
    case CLOSE.invalidPayload: return 400;
    case CLOSE.protocolError: return 400;
    case CLOSE.policyViolation: return 403;
    case CLOSE.messageTooBig: return 413;
    case CLOSE.tryAgainLater: return 503;
    case CLOSE.unauthorized: return 401;
    case CLOSE.forbidden: return 403;
    case CLOSE.streamNotFound: return 404;
    case CLOSE.streamBusy: return 409;
    case CLOSE.streamEnded: return 410;
    case CLOSE.slowConsumer: return 429;
    case CLOSE.publisherIdle: return 408;
    default: return 500;
  }
}

/** WebSocket close reasons are limited to 123 bytes of UTF-8; cut at a character boundary. */
export function truncateReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let cut = reason.slice(0, 120);
  while (Buffer.byteLength(cut) > 120) cut = cut.slice(0, -1);
  return `${cut}...`;
}

/**
 * A code that may be sent in a close frame: ws throws on the reserved ones (1004-1006, 1015) and on
 * anything outside the registered and application ranges, and a bad code from a caller must cost that
 * caller's connection its precise code, not the process.
 */
export function sendableCloseCode(code: number): number {
  const ok = Number.isInteger(code) && ((code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999));
  return ok ? code : CLOSE.internalError;
}
