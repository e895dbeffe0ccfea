import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Direction } from './admission.js';
import type { StreamTarget } from './routes.js';

/** The listener's plain answers: a refused request, a refused upgrade, and what a method asks for. */

/** How long a refused request's socket may linger so the peer can read the answer. */
const LINGER_MS = 2000;

/** A short text answer (every refusal of the listener is one), cutting an endless body after it was read. */
export function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = `${message}\n`;
  // A refused publisher may go on sending an endless body: node reads and discards it for as long as
  // the peer cares to send, so the connection is cut once the answer had time to be read. (Not with
  // `Connection: close`: node would close at once, and a peer still sending would get a reset that can
  // destroy the answer before it is read.)
  const unread = !res.req.complete;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'Access-Control-Allow-Origin': '*',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
  if (unread) {
    const req = res.req;
    setTimeout(() => req.complete || req.socket.destroy(), LINGER_MS).unref();
  }
}

export /** Answer an upgrade request we will not take, as plain HTTP on the raw socket. */
function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** What an HTTP method asks of a stream URL: to publish, to play, or nothing it allows. */
export function httpDirection(target: StreamTarget, method: string): Direction | undefined {
  const play = method === 'GET' || method === 'HEAD';
  const publish = method === 'POST' || method === 'PUT';
  if (target.convention === 'publish') return publish ? 'publish' : undefined;
  if (target.convention === 'play') return play ? 'play' : undefined;
  return play ? 'play' : publish ? 'publish' : undefined;
}
