import { Observable, Subject } from 'rxjs';
import type { CloseDetail, ConnectionInfo, PlayerTransport, PublishConnection } from '../live/types.js';
import { CLOSE } from '../live/close.js';
import { LiveConnection } from '../server/connection.js';
import { messageToFlv, RTMP_FLV_HEADER } from './flv-bridge.js';
import type { RtmpMessage } from './messages.js';
import type { RtmpSession } from './session.js';

/** The NetStream status a close code means for an RTMP peer that published or played. */
export function rtmpStatusFor(code: number, direction: 'publish' | 'play'): { level: 'status' | 'error'; code: string } {
  const publish = direction === 'publish';
  switch (code) {
    case CLOSE.normal:
    case CLOSE.streamEnded:
      return { level: 'status', code: publish ? 'NetStream.Unpublish.Success' : 'NetStream.Play.Stop' };
    case CLOSE.streamBusy:
      return { level: 'error', code: publish ? 'NetStream.Publish.BadName' : 'NetStream.Play.Failed' };
    case CLOSE.streamNotFound:
      return { level: 'error', code: 'NetStream.Play.StreamNotFound' };
    case CLOSE.unauthorized:
    case CLOSE.forbidden:
    case CLOSE.policyViolation:
      return { level: 'error', code: publish ? 'NetStream.Publish.Unauthorized' : 'NetStream.Play.Unauthorized' };
    case CLOSE.goingAway:
      return { level: 'status', code: 'NetConnection.Connect.Closed' };
    default:
      return { level: 'error', code: publish ? 'NetStream.Publish.Failed' : 'NetStream.Play.Failed' };
  }
}

/**
 * An RTMP publisher as the publish sources see any publisher: its audio, video and data messages
 * as an FLV byte stream (header first), so the usual `flv-demux` stage parses it.
 */
export class RtmpPublisher extends LiveConnection implements PublishConnection {
  readonly role = 'publisher' as const;
  readonly data$: Observable<Buffer>;
  bytesReceived = 0;
  readonly #session: RtmpSession;
  readonly #data = new Subject<Buffer>();
  /** Messages that came before the pipeline subscribed (between Publish.Start and the chain's start). */
  #early: Buffer[] | undefined = [RTMP_FLV_HEADER];

  constructor(info: ConnectionInfo, session: RtmpSession) {
    super(info);
    this.#session = session;
    this.data$ = new Observable<Buffer>((subscriber) => {
      const subscription = this.#data.subscribe(subscriber);
      const early = this.#early ?? [];
      this.#early = undefined;
      for (const chunk of early) subscriber.next(chunk);
      if (this.closed.fired) subscriber.complete();
      return () => {
        subscription.unsubscribe();
        setImmediate(() => this.close(CLOSE.normal, 'stream ended'));
      };
    });
  }

  /** A media or data message from the session. */
  push(message: RtmpMessage): void {
    if (this.closed.closing) return;
    this.bytesReceived += message.payload.length;
    for (const tag of messageToFlv(message)) {
      if (this.#early) this.#early.push(tag);
      else this.#data.next(tag);
    }
  }

  /** The client unpublished or went away. */
  ended(by: 'peer' | 'server', code = CLOSE.normal, reason = 'unpublished'): void {
    this.closed.closing ??= { code, reason, by };
    this.#data.complete();
    this.closed.fire();
  }

  close(code: number, reason: string, detail?: CloseDetail): void {
    if (this.closed.closing) return;
    this.closed.closing = { code, reason, by: 'server' };
    const status = rtmpStatusFor(code, 'publish');
    this.#session.refuse(detail?.rtmpStatus ?? status.code, reason);
    this.#data.complete();
    this.closed.fire();
  }
}

/**
 * An RTMP player: the fan-out's tags, framed once per tag as RTMP chunks (the `rtmp` framing),
 * written straight to its socket like a WebSocket player's frames.
 */
export class RtmpPlayer extends LiveConnection implements PlayerTransport {
  readonly role = 'player' as const;
  readonly framing: string;
  readonly byteStream = true;
  bytesSent = 0;
  readonly #session: RtmpSession;

  constructor(info: ConnectionInfo, session: RtmpSession, framing: string) {
    super(info);
    this.#session = session;
    this.framing = framing;
  }

  get queuedBytes(): number {
    return this.#session.socket.writableLength;
  }

  write(frames: readonly Buffer[], count: number): void {
    if (this.closed.closing) return;
    const socket = this.#session.socket;
    if (socket.destroyed) return;
    if (count === 1) {
      if (frames[0]!.length > 0) socket.write(frames[0]!);
      this.bytesSent += frames[0]!.length;
      return;
    }
    socket.cork();
    for (let i = 0; i < count; i++) {
      if (frames[i]!.length === 0) continue;
      socket.write(frames[i]!);
      this.bytesSent += frames[i]!.length;
    }
    socket.uncork();
  }

  ended(): void {
    this.closed.closing ??= { code: CLOSE.normal, reason: 'stopped', by: 'peer' };
    this.closed.fire();
  }

  close(code: number, reason: string): void {
    if (this.closed.closing) return;
    this.closed.closing = { code, reason, by: 'server' };
    const status = rtmpStatusFor(code, 'play');
    this.#session.refuse(status.code, reason);
    this.closed.fire();
  }

  onClose(listener: () => void): void {
    this.closed.add(listener);
  }
}

