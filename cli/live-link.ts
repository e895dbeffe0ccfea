import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { WebSocket } from 'ws';
import { UsageError } from './command.js';
import { formatBytes } from './progress.js';

/** What `wsflv publish` and `wsflv play` accept as a server URL. */
export function parseLiveUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`not a URL: ${text}`);
  }
  if (!['ws:', 'wss:', 'http:', 'https:', 'rtmp:', 'rtmps:'].includes(url.protocol)) {
    throw new UsageError(`unsupported URL scheme ${url.protocol} (use ws://, wss://, http://, https://, rtmp:// or rtmps://)`);
  }
  return url;
}

export const isWebSocketUrl = (url: URL) => url.protocol === 'ws:' || url.protocol === 'wss:';
export const isRtmpUrl = (url: URL) => url.protocol === 'rtmp:' || url.protocol === 'rtmps:';

/** The server's answer when it refuses or ends a connection: a close code or HTTP status, and a reason. */
export class LinkClosed extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    readonly transport: 'ws' | 'http' | 'rtmp',
  ) {
    super(transport === 'http' ? `server answered ${code}${reason ? `: ${reason}` : ''}` : transport === 'rtmp' ? `server ended the RTMP stream${reason ? `: ${reason}` : ''}` : `server closed the connection: ${code}${reason ? ` ${reason}` : ''}`);
  }
}

/** Open a WebSocket, or fail with the status and body of a refused handshake. */
/**
 * Open a WebSocket. It resolves paused: a server may send its first messages in the same packet as
 * the handshake answer, and they would be emitted before a caller awaiting this promise could listen.
 * Call `resume()` once the 'message' and 'close' listeners are attached.
 */
export function openWebSocket(url: URL, protocols: string[], insecure: boolean): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { handshakeTimeout: 10_000, rejectUnauthorized: !insecure, perMessageDeflate: false });
    ws.once('open', () => {
      ws.pause();
      ws.off('error', reject);
      resolve(ws);
    });
    ws.once('error', reject);
    ws.once('unexpected-response', (req: ClientRequest, res: IncomingMessage) => {
      // With this listener, ws leaves the refused request to us: read the reason, then drop it.
      readBody(res).then((body) => reject(new LinkClosed(res.statusCode ?? 0, body.trim(), 'http')), reject).finally(() => req.destroy());
    });
  });
}

/** Start an HTTP request (GET to play, POST to publish). */
export function openHttp(url: URL, method: 'GET' | 'POST', insecure: boolean, headers: Record<string, string> = {}): ClientRequest {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return send(url, { method, headers, rejectUnauthorized: !insecure });
}

export async function readBody(res: IncomingMessage, limit = 4096): Promise<string> {
  let body = '';
  for await (const chunk of res) {
    if (body.length < limit) body += (chunk as Buffer).toString('utf8');
  }
  return body.slice(0, limit);
}

/**
 * One status line on stderr: redrawn in place on a terminal, printed every few seconds otherwise so a
 * log is not flooded.
 */
export class StatusLine {
  readonly #stream: NodeJS.WriteStream;
  readonly #render: () => string;
  #timer: NodeJS.Timeout | undefined;
  #drawn = false;

  constructor(render: () => string, stream: NodeJS.WriteStream = process.stderr) {
    this.#render = render;
    this.#stream = stream;
  }

  start(): void {
    const tty = this.#stream.isTTY;
    this.#timer = setInterval(() => this.#draw(), tty ? 500 : 5000);
    this.#timer.unref();
  }

  /** Stop redrawing and print the final line. */
  finish(last: string): void {
    clearInterval(this.#timer);
    if (this.#drawn && this.#stream.isTTY) this.#stream.write('\r\x1b[K');
    this.#stream.write(`${last}\n`);
  }

  #draw(): void {
    if (this.#stream.isTTY) {
      this.#stream.write(`\r\x1b[K${this.#render()}`);
      this.#drawn = true;
    } else {
      this.#stream.write(`${this.#render()}\n`);
    }
  }
}

export function describeTransfer(bytes: number, seconds: number, mediaMs?: number): string {
  const media = mediaMs === undefined ? '' : `, ${(mediaMs / 1000).toFixed(1)} s of media${seconds > 0 ? ` (${(mediaMs / 1000 / seconds).toFixed(2)}x)` : ''}`;
  return `${formatBytes(bytes)} in ${seconds.toFixed(1)} s${media}`;
}
