import { Observable, Subject } from 'rxjs';
import type { RawData, WebSocket } from 'ws';
import type { ConnectionInfo, PublishConnection } from '../live/types.js';
import { CLOSE } from '../live/close.js';
import { LiveConnection } from './connection.js';
import { sendableCloseCode, truncateReason } from './close.js';

/**
 * A publisher on a WebSocket: every binary message is passed on as is, whatever the publisher's
 * chunking (the demuxer reassembles tags). Reading is paused until the pipeline subscribes, so nothing
 * sent before the stream's chain exists is lost.
 */
export class WsPublisher extends LiveConnection implements PublishConnection {
  readonly role = 'publisher' as const;
  readonly data$: Observable<Buffer>;
  bytesReceived = 0;

  readonly #ws: WebSocket;
  readonly #data = new Subject<Buffer>();

  constructor(info: ConnectionInfo, ws: WebSocket) {
    super(info);
    this.#ws = ws;
    ws.pause();
    ws.on('message', (data: RawData, isBinary: boolean) => this.#onMessage(data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed.closing ??= { code, reason: reason.toString(), by: 'peer' };
      this.#data.complete();
      this.closed.fire();
    });
    this.data$ = new Observable<Buffer>((subscriber) => {
      const subscription = this.#data.subscribe(subscriber);
      if (ws.isPaused) ws.resume();
      return () => {
        subscription.unsubscribe();
        // The chain let go without a verdict (it completed, or was cut at shutdown). An abort() for the
        // same failure arrives in the same tick, after this teardown: it must be the one that sets the code.
        setImmediate(() => this.close(CLOSE.normal, 'stream ended'));
      };
    });
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed.closing) return;
    if (!isBinary) {
      this.close(CLOSE.unsupportedData, 'text messages are not accepted: send FLV as binary messages');
      return;
    }
    // binaryType is 'nodebuffer', so fragmented messages arrive concatenated into one Buffer.
    const chunk = data as Buffer;
    this.bytesReceived += chunk.length;
    this.#data.next(chunk);
  }

  close(code: number, reason: string): void {
    if (this.closed.closing) return;
    this.closed.closing = { code, reason, by: 'server' };
    this.#data.complete();
    // Nothing more is read from a publisher we are done with; ws still reads the close frame.
    if (this.#ws.isPaused) this.#ws.resume();
    this.#ws.close(sendableCloseCode(code), truncateReason(reason));
  }
}
