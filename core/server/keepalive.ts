import { WebSocket } from 'ws';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { LiveConnection } from './connection.js';

/**
 * WebSocket keep-alive for the handed-over connections: every `intervalMs` each peer is pinged, and
 * a peer that has not answered the previous ping by then is cut. The listeners every WebSocket
 * needs are shared functions (`this` is the socket), not closures per connection: memory per player
 * is a budget.
 */
export class WebSocketKeepalive {
  /** Every handed-over WebSocket, with its connection (for the log). */
  readonly #websockets = new Map<WebSocket, LiveConnection>();
  /** Pinged and not yet heard from since: cut at the next round. */
  readonly #awaitingPong = new Set<WebSocket>();
  readonly #onPong: (this: WebSocket) => void;
  readonly #onClose: (this: WebSocket) => void;
  /** Logs a socket error with its connection's id; shared by every WebSocket. */
  readonly onError: (this: WebSocket, error: Error) => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    const websockets = this.#websockets;
    const awaiting = this.#awaitingPong;
    this.#onPong = function () {
      awaiting.delete(this);
    };
    this.#onClose = function () {
      websockets.delete(this);
      awaiting.delete(this);
    };
    this.onError = function (error) {
      logger.debug({ err: error, id: websockets.get(this)?.id }, 'WebSocket error');
    };
  }

  watch(ws: WebSocket, connection: LiveConnection): void {
    this.#websockets.set(ws, connection);
    ws.on('pong', this.#onPong);
    ws.on('close', this.#onClose);
  }

  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => this.#pingAll(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#websockets.clear();
    this.#awaitingPong.clear();
  }

  #pingAll(): void {
    for (const [ws, connection] of this.#websockets) {
      if (this.#awaitingPong.has(ws)) {
        this.logger.info({ id: connection.id }, 'WebSocket peer missed a keep-alive pong: cutting it');
        this.metrics.counter('wsflv_server_reaped_total', 'WebSocket peers cut for missing a keep-alive pong').inc();
        this.#websockets.delete(ws);
        this.#awaitingPong.delete(ws);
        ws.terminate();
        continue;
      }
      this.#awaitingPong.add(ws);
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    }
  }
}
