import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionInfo, PlayerTransport } from '../live/types.js';
import { CLOSE } from '../live/close.js';
import { LiveConnection } from './connection.js';
import { httpStatusFor } from './close.js';

/** Headers of an HTTP-FLV response: any origin may play, and no cache may keep a live stream. */
export const HTTP_FLV_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'video/x-flv',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Pragma: 'no-cache',
  Expires: '0',
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Type',
  Connection: 'close',
};

const CHUNKED_END = Buffer.from('0\r\n\r\n');

/**
 * An HTTP-FLV player. The fan-out hands over tags already framed as HTTP chunks, written straight to the
 * socket. The status line waits for the first write, so a player refused before any media (no such
 * stream, too many players) still gets a meaningful status instead of a 200 with an empty body.
 */
export class HttpPlayer extends LiveConnection implements PlayerTransport {
  readonly role = 'player' as const;
  readonly framing = 'http' as const;
  /** HTTP/1.0 bodies are unframed chunk by chunk, so their batches stay apart. */
  readonly byteStream: boolean;
  bytesSent = 0;

  readonly #res: ServerResponse;
  readonly #socket: Socket;
  /** HTTP/1.0 has no chunked encoding: the body is the bare bytes, ended by closing the connection. */
  readonly #chunked: boolean;

  constructor(info: ConnectionInfo, req: IncomingMessage, res: ServerResponse) {
    super(info);
    this.#res = res;
    this.#socket = req.socket;
    this.#chunked = req.httpVersion !== '1.0';
    this.byteStream = this.#chunked;
    this.#socket.once('close', () => {
      this.closed.closing ??= { code: CLOSE.goingAway, reason: 'connection lost', by: 'peer' };
      this.closed.fire();
    });
  }

  get queuedBytes(): number {
    return this.#socket.writableLength;
  }

  write(frames: readonly Buffer[], count: number): void {
    if (this.closed.closing || this.#socket.destroyed) return;
    const socket = this.#socket;
    socket.cork();
    if (!this.#res.headersSent) this.#sendHead();
    for (let i = 0; i < count; i++) {
      const bytes = this.#chunked ? frames[i]! : unchunk(frames[i]!);
      socket.write(bytes);
      this.bytesSent += bytes.length;
    }
    socket.uncork();
  }

  close(code: number, reason: string): void {
    if (this.closed.closing) return;
    this.closed.closing = { code, reason, by: 'server' };
    const res = this.#res;
    if (this.#socket.destroyed) return;
    if (!res.headersSent) {
      const body = `${reason}\n`;
      res.writeHead(httpStatusFor(code), {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
        'Access-Control-Allow-Origin': '*',
        Connection: 'close',
      });
      res.end(body);
      return;
    }
    // The response object never saw the body (it went to the socket), so the end of it is ours to write too.
    if (this.#chunked) this.#socket.end(CHUNKED_END);
    else this.#socket.end();
  }

  onClose(listener: () => void): void {
    this.closed.add(listener);
  }

  #sendHead(): void {
    const res = this.#res;
    res.writeHead(200, this.#chunked ? { ...HTTP_FLV_HEADERS, 'Transfer-Encoding': 'chunked' } : HTTP_FLV_HEADERS);
    res.flushHeaders();
  }
}

/** The payload of one HTTP chunk (`SIZE\r\n` payload `\r\n`), as a view. */
function unchunk(frame: Buffer): Buffer {
  const lineEnd = frame.indexOf('\r\n');
  return lineEnd < 0 ? frame : frame.subarray(lineEnd + 2, frame.length - 2);
}
