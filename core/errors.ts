/**
 * Every error the project raises on purpose carries a stable `code` (`WSFLV_ERR_*`), documented in
 * docs/errors.md. Callers branch on `code` or on the class, never on the message.
 */
export class WsflvError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Malformed or unsupported FLV input. `offset` is the byte offset in the stream where it was found. */
export class FlvError extends WsflvError {
  readonly offset: number;
  constructor(code: string, message: string, offset: number) {
    super(code, `${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

/** The first bytes are not `FLV` version 1, or the header is malformed. */
export class FlvSignatureError extends FlvError {
  constructor(message: string, offset: number) { super('WSFLV_ERR_FLV_SIGNATURE', message, offset); }
}

/** A tag header is malformed (unknown type, non-zero stream id, reserved bits). */
export class FlvTagHeaderError extends FlvError {
  constructor(message: string, offset: number) { super('WSFLV_ERR_FLV_TAG_HEADER', message, offset); }
}

/** A tag declares a body larger than the configured maximum. */
export class FlvTagTooLargeError extends FlvError {
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number, offset: number) {
    super('WSFLV_ERR_FLV_TAG_TOO_LARGE', `tag body of ${size} bytes exceeds the limit of ${limit} bytes`, offset);
    this.size = size;
    this.limit = limit;
  }
}

/** PreviousTagSize does not match the size of the tag before it (strict policy only). */
export class FlvPreviousTagSizeError extends FlvError {
  constructor(message: string, offset: number) { super('WSFLV_ERR_FLV_PREVIOUS_TAG_SIZE', message, offset); }
}

/** A tag body is too short or inconsistent for its declared codec / packet type. */
export class FlvTagBodyError extends FlvError {
  constructor(message: string, offset: number) { super('WSFLV_ERR_FLV_TAG_BODY', message, offset); }
}

/** A valid FLV feature that this project does not handle, named in the message. */
export class FlvUnsupportedError extends FlvError {
  constructor(message: string, offset: number) { super('WSFLV_ERR_FLV_UNSUPPORTED', message, offset); }
}

/** The stream ended inside a header or tag. */
export class FlvTruncatedError extends FlvError {
  constructor(message: string, offset: number) { super('WSFLV_ERR_FLV_TRUNCATED', message, offset); }
}

/** Malformed AMF0 data (script tags, onMetaData). */
export class Amf0Error extends FlvError {
  constructor(message: string, offset: number) { super('WSFLV_ERR_AMF0', message, offset); }
}

/** A decoder configuration record (avcC, hvcC, av1C, AudioSpecificConfig, OpusHead, SPS) is malformed. */
export class CodecConfigError extends WsflvError {
  constructor(message: string) { super('WSFLV_ERR_CODEC_CONFIG', message); }
}

/** An RTMP peer broke the protocol (handshake, chunk stream, commands) or a bound; `code` says which. */
export class RtmpError extends WsflvError {}
