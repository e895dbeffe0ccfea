import { registerFraming } from '../live/framing.js';
import type { PlayerTransport } from '../live/types.js';
import { encodeEnd, encodeMediaBatch } from './bus-message.js';

/** Another node's feed takes the FLV bytes as they are: the batch is framed by the bus messages. */
export const CLUSTER_FRAMING = 'cluster';
registerFraming(CLUSTER_FRAMING, (flv) => flv);

export interface FeedTransportOptions {
  id: string;
  key: string;
  /** The node this feed goes to. */
  edge: string;
  /** Sends one message to the edge's feed subject. */
  send(message: Buffer): void;
  /** The largest payload the bus takes now (NATS `max_payload`). */
  maxPayload(): number;
}

/**
 * The origin's end of a stream going to another node: a player of the live channel like any other
 * (so the node gets the same fast start, header, metadata, sequence headers and GOP, and the same
 * queue policy), whose writes become numbered bus messages to that node instead of socket writes.
 */
export class FeedTransport implements PlayerTransport {
  readonly id: string;
  readonly app: string;
  readonly stream: string;
  readonly key: string;
  readonly transport = 'cluster' as const;
  readonly address: string;
  readonly query: Record<string, string> = {};
  readonly framing = CLUSTER_FRAMING;
  /** NATS queues what it cannot send yet inside the client; the stream's pace is not held back here. */
  readonly queuedBytes = 0;
  readonly edge: string;
  /** Wall-clock time the edge last said it still wants the stream. */
  lastWanted = Date.now();
  bytesSent = 0;
  #seq = 0;
  #closed = false;
  #listeners: (() => void)[] = [];
  readonly #send: (message: Buffer) => void;
  readonly #maxPayload: () => number;

  constructor(options: FeedTransportOptions) {
    this.id = options.id;
    this.key = options.key;
    const slash = options.key.indexOf('/');
    this.app = options.key.slice(0, slash);
    this.stream = options.key.slice(slash + 1);
    this.edge = options.edge;
    this.address = `node:${options.edge}`;
    this.#send = options.send;
    this.#maxPayload = options.maxPayload;
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(frames: readonly Buffer[], count: number): void {
    if (this.#closed) return;
    const messages = encodeMediaBatch(frames, count, this.#seq, this.#seq === 0, this.#maxPayload());
    this.#seq = (this.#seq + messages.length) >>> 0;
    for (const message of messages) {
      this.bytesSent += message.length;
      this.#send(message);
    }
  }

  /** The channel closes the feed (stream ended, taken over): the edge is told why. */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#send(encodeEnd(this.#seq, code, reason));
    this.#seq = (this.#seq + 1) >>> 0;
    this.#gone();
  }

  /** The edge stopped wanting it (or is gone): nothing more is sent. */
  drop(): void {
    this.#gone();
  }

  onClose(listener: () => void): void {
    if (this.#closed) queueMicrotask(listener);
    else this.#listeners.push(listener);
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const listener of this.#listeners.splice(0)) listener();
  }
}
