import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { ConnectionInfo, PlayerTransport } from '../live/types.js';
import { LiveConnection } from './connection.js';
import { sendableCloseCode, truncateReason } from './close.js';

/**
 * A WebSocket player. Media goes straight to the TCP socket as frames the fan-out built once for every
 * player (server frames are unmasked, so the bytes are the same for all); `ws` keeps the handshake,
 * close frames and ping/pong. Mixing the two on one socket is safe because every write on either side
 * is a whole frame, and ws (no permessage-deflate) writes its frames synchronously.
 */
export class WsPlayer extends LiveConnection implements PlayerTransport {
  readonly role = 'player' as const;
  readonly framing = 'ws' as const;
  readonly byteStream = true;
  bytesSent = 0;

  readonly #ws: WebSocket;
  readonly #socket: Socket;

  constructor(info: ConnectionInfo, ws: WebSocket, socket: Socket) {
    super(info);
    this.#ws = ws;
    this.#socket = socket;
    // Players have nothing to say; whatever they send is read (so pongs and close frames get through) and dropped.
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed.closing ??= { code, reason: reason.toString(), by: 'peer' };
      this.closed.fire();
    });
  }

  get queuedBytes(): number {
    return this.#socket.writableLength;
  }

  write(frames: readonly Buffer[], count: number): void {
    // After a close frame, the protocol allows no more data frames.
    if (this.closed.closing || this.#ws.readyState !== WebSocket.OPEN) return;
    const socket = this.#socket;
    if (count === 1) {
      // Uncorked, one buffer goes straight to the handle: no queue entry, no batch array.
      socket.write(frames[0]!);
      this.bytesSent += frames[0]!.length;
      return;
    }
    socket.cork();
    for (let i = 0; i < count; i++) {
      socket.write(frames[i]!);
      this.bytesSent += frames[i]!.length;
    }
    socket.uncork();
  }

  close(code: number, reason: string): void {
    if (this.closed.closing) return;
    this.closed.closing = { code, reason, by: 'server' };
    this.#ws.close(sendableCloseCode(code), truncateReason(reason));
  }

  onClose(listener: () => void): void {
    this.closed.add(listener);
  }
}
