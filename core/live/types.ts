import type { Observable } from 'rxjs';

/**
 * The contract between the listener (core/server), the live fan-out (core/live) and the thin
 * publish/play adapters (sources/, sinks/).
 */

/** Transport a connection arrived on; `cluster`: another node's feed of a stream held here. */
export type LiveTransport = 'ws' | 'wss' | 'http' | 'https' | 'rtmp' | 'rtmps' | 'cluster';

/** What every live connection knows about itself, for logs, hooks and the API. */
export interface ConnectionInfo {
  /** Unique per process, e.g. `p-17`. */
  id: string;
  app: string;
  stream: string;
  /** `APP/STREAM` */
  key: string;
  transport: LiveTransport;
  /** `ip:port` of the peer. */
  address: string;
  query: Record<string, string>;
}

/**
 * One tag as the fan-out sends it: muxed once per stream, framed once per transport, the same
 * Buffer handed to every player.
 */
export interface LiveTag {
  kind: 'audio' | 'video' | 'script';
  dts: number;
  /** Video random access point (audio and script tags are always true). */
  keyframe: boolean;
  /** Decoder configuration: never dropped for a slow player. */
  config: boolean;
  /** Enhanced RTMP multitrack: the track of its kind the tag belongs to (absent: the only one, 0). */
  trackId?: number;
  /** FLV tag bytes: 11-byte header + body + PreviousTagSize. */
  flv: Buffer;
}

/** A player connection as the fan-out sees it: a byte sink with a queue it can measure. */
export interface PlayerTransport extends ConnectionInfo {
  /**
   * Frame FLV bytes for this transport (a WebSocket binary frame, an HTTP chunk). The fan-out calls it
   * once per tag per transport kind and caches the result, so framing is not per player.
   */
  readonly framing: 'ws' | 'http' | (string & {});
  /**
   * The frames written become one byte stream (a socket), so a batch may arrive joined into a single
   * Buffer instead of one per frame. Transports that keep frames apart (a message per frame) leave it unset.
   */
  readonly byteStream?: boolean;
  /** Bytes accepted but not yet handed to the kernel (ws bufferedAmount / socket.writableLength). */
  readonly queuedBytes: number;
  /**
   * Write `frames[0..count)`, already framed, as one batch (one system call where the transport can).
   * The array is the caller's and is reused once this returns: keep no reference to it.
   */
  write(frames: readonly Buffer[], count: number): void;
  /** Close with a WebSocket close code (HTTP players: the response ends) and a human-readable reason. */
  close(code: number, reason: string): void;
  /** Called once when the connection is gone, whoever closed it. */
  onClose(listener: () => void): void;
}

/** A publisher connection as the publish sources see it. */
export interface PublishConnection extends ConnectionInfo {
  /** The bytes the publisher sends, in whatever chunking it used. Completes when it disconnects. */
  data$: Observable<Buffer>;
  /**
   * Close the publisher with a WebSocket close code (HTTP: status / socket end) and a reason;
   * `detail` overrides what the code implies for an HTTP publisher not yet answered, or an RTMP one.
   */
  close(code: number, reason: string, detail?: CloseDetail): void;
}

/** What a close means in other protocols than WebSocket, when the code alone does not say it. */
export interface CloseDetail {
  httpStatus?: number;
  /** A NetStream status code, e.g. `NetStream.Publish.BadName`. */
  rtmpStatus?: string;
}

