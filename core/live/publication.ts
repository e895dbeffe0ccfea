import type { MediaPacket } from '../media/packet.js';
import type { StreamOrigin } from '../pipeline/component.js';

export interface PublisherInfo {
  /** The connection id of the publisher, when it has one. */
  id?: string;
  origin?: StreamOrigin;
  /** The cluster node the stream is fed from, when it is held by another node (core/cluster). */
  node?: string;
}

export interface PublicationSink {
  push(publication: Publication, packet: MediaPacket): void;
  end(publication: Publication): void;
}

/**
 * One publisher's hold on a channel. The feeding side pushes packets and ends it when the publisher
 * leaves; the registry revokes it when another publisher takes the stream over (or the server stops),
 * after which pushes are ignored and `onRevoked` listeners learn why.
 */
export class Publication {
  readonly key: string;
  readonly info: PublisherInfo;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  #state: 'active' | 'ended' | 'revoked' = 'active';
  #listeners: ((code: number, reason: string) => void)[] = [];
  readonly #sink: PublicationSink;

  constructor(key: string, info: PublisherInfo, startedAt: number, sink: PublicationSink) {
    this.key = key;
    this.info = info;
    this.startedAt = startedAt;
    this.#sink = sink;
  }

  get active(): boolean {
    return this.#state === 'active';
  }

  push(packet: MediaPacket): void {
    if (this.#state === 'active') this.#sink.push(this, packet);
  }

  /** The publisher left: players stay for the grace period, if any. */
  end(): void {
    if (this.#state !== 'active') return;
    this.#state = 'ended';
    this.#sink.end(this);
  }

  /** Called once if the stream is taken away from this publisher, with a close code for it. */
  onRevoked(listener: (code: number, reason: string) => void): void {
    this.#listeners.push(listener);
  }

  revoke(code: number, reason: string): void {
    if (this.#state !== 'active') return;
    this.#state = 'revoked';
    for (const listener of this.#listeners.splice(0)) listener(code, reason);
  }
}
