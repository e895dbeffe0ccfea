import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Observable, Subject } from 'rxjs';
import type { CloseDetail, ConnectionInfo, PublishConnection } from '../live/types.js';
import { CLOSE } from '../live/close.js';
import { LiveConnection } from './connection.js';
import { httpStatusFor } from './close.js';

/** How long a refused publisher's socket may linger so the peer can read the status line. */
const LINGER_MS = 2000;

/**
 * A publisher sending FLV as an HTTP request body (POST/PUT, usually chunked: `ffmpeg -f flv http://…`).
 * The answer is only sent when the stream ends, so a failure found mid-stream can still be told as a
 * status (400 bad FLV, 413 tag too large) rather than a cut connection.
 */
export class HttpPublisher extends LiveConnection implements PublishConnection {
  readonly role = 'publisher' as const;
  readonly data$: Observable<Buffer>;
  bytesReceived = 0;

  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #socket: Socket;
  readonly #data = new Subject<Buffer>();

  constructor(info: ConnectionInfo, req: IncomingMessage, res: ServerResponse) {
    super(info);
    this.#req = req;
    this.#res = res;
    this.#socket = req.socket;
    // The body stays paused (no 'data' listener) until the pipeline subscribes.
    req.on('end', () => {
      if (this.closed.closing) return;
      this.closed.closing = { code: CLOSE.normal, reason: 'publisher finished', by: 'peer' };
      this.#data.complete();
      this.#respond(200, `received ${this.bytesReceived} bytes\n`);
    });
    this.#socket.once('close', () => {
      this.closed.closing ??= { code: CLOSE.goingAway, reason: 'connection lost', by: 'peer' };
      this.#data.complete();
      this.closed.fire();
    });
    this.data$ = new Observable<Buffer>((subscriber) => {
      const subscription = this.#data.subscribe(subscriber);
      req.on('data', (chunk: Buffer) => {
        if (this.closed.closing) return;
        this.bytesReceived += chunk.length;
        this.#data.next(chunk);
      });
      return () => {
        subscription.unsubscribe();
        setImmediate(() => this.close(CLOSE.normal, 'stream ended'));
      };
    });
  }

  close(code: number, reason: string, detail?: CloseDetail): void {
    const httpStatus = detail?.httpStatus ?? httpStatusFor(code);
    if (this.closed.closing) return;
    this.closed.closing = { code, reason, by: 'server' };
    this.#data.complete();
    if (this.#res.headersSent) {
      this.#socket.destroy();
      return;
    }
    this.#respond(httpStatus, `${reason}\n`);
  }

  #respond(status: number, body: string): void {
    const res = this.#res;
    if (res.headersSent || this.#socket.destroyed) return;
    const unread = !this.#req.complete;
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Access-Control-Allow-Origin': '*',
      // With `Connection: close` node closes the socket as soon as the answer is written; a peer still
      // sending then gets a reset, which can destroy the answer before it is read.
      ...(unread ? {} : { Connection: 'close' }),
    });
    res.end(body);
    if (!unread) return;
    // The body is still coming and nobody will read it: discard it while the peer reads the answer,
    // then cut the connection.
    this.#req.removeAllListeners('data');
    this.#req.resume();
    setTimeout(() => this.#req.complete || this.#socket.destroy(), LINGER_MS).unref();
  }
}
