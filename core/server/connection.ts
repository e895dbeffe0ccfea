import type { Socket } from 'node:net';
import type { CloseDetail, ConnectionInfo, LiveTransport } from '../live/types.js';
import type { StreamTarget } from './routes.js';

export type Role = 'publisher' | 'player';

let nextId = 1;

/** A new connection id (`p-17`, `v-18`), taken before the connection exists so admission gates can name it. */
export function nextConnectionId(role: Role): string {
  return `${role === 'publisher' ? 'p' : 'v'}-${nextId++}`;
}

export function connectionInfo(role: Role, target: StreamTarget, transport: LiveTransport, socket: Socket, id = nextConnectionId(role)): ConnectionInfo {
  return {
    id,
    app: target.app,
    stream: target.stream,
    key: target.key,
    transport,
    address: peerAddress(socket),
    query: target.query,
  };
}

export function peerAddress(socket: Socket): string {
  const host = socket.remoteAddress ?? 'unknown';
  return `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort ?? 0}`;
}

/** How a connection ended, for the log line and the API. */
export interface Closing {
  code: number;
  reason: string;
  /** Who ended it: us (`server`) or the peer (`peer`, including a vanished one). */
  by: 'server' | 'peer';
}

/**
 * Close bookkeeping shared by the four connection kinds: listeners run once, whoever closes, and a
 * listener added after the fact still runs (a player attached late to a connection that already died).
 */
export class CloseSignal {
  #listeners: (() => void)[] | undefined = [];
  closing: Closing | undefined;

  get fired(): boolean {
    return this.#listeners === undefined;
  }

  add(listener: () => void): void {
    if (this.#listeners) this.#listeners.push(listener);
    else queueMicrotask(listener);
  }

  fire(): void {
    const listeners = this.#listeners;
    if (!listeners) return;
    this.#listeners = undefined;
    for (const listener of listeners) listener();
  }
}

/**
 * What the four connection kinds (ws and http, publisher and player) have in common: who they are and
 * how they end. Each subclass adds its transport's reading or writing. The listener keeps these very
 * objects as its bookkeeping (for the API and shutdown), so a connection costs no second record.
 */
export abstract class LiveConnection implements ConnectionInfo {
  abstract readonly role: Role;
  /** Epoch ms when it was handed over. */
  readonly connectedAt = Date.now();
  readonly id: string;
  readonly app: string;
  readonly stream: string;
  readonly key: string;
  readonly transport: LiveTransport;
  readonly address: string;
  readonly query: Record<string, string>;
  readonly closed = new CloseSignal();

  constructor(info: ConnectionInfo) {
    ({ id: this.id, app: this.app, stream: this.stream, key: this.key, transport: this.transport, address: this.address, query: this.query } = info);
  }

  /**
   * Close with a WebSocket close code (HTTP: the response or request ends) and a reason. `detail`
   * overrides what other protocols are told (default: what the code implies).
   */
  abstract close(code: number, reason: string, detail?: CloseDetail): void;
}
