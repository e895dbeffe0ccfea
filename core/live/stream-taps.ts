import { concat, defer, filter, Observable, of, Subject } from 'rxjs';
import type { MediaPacket } from '../media/packet.js';
import type { StreamOrigin } from '../pipeline/component.js';

/** A live stream as another pipeline reads it: its packets as they are fed to its players. */
export interface TappedStream {
  key: string;
  origin: StreamOrigin;
  /** The pipelines this stream has passed through, oldest first: a reader skips streams it made. */
  via: readonly string[];
  /**
   * The packets from now until the feed ends. A reader that arrives mid-stream first gets the
   * stream's onMetaData and sequence headers, then packets from the next video keyframe (audio-only:
   * at once), so it never starts mid-GOP.
   */
  packets$: Observable<MediaPacket>;
}

/** The feeding side of one tapped stream. */
export interface TapHandle {
  push(packet: MediaPacket): void;
  end(): void;
}

class Tap {
  readonly packets = new Subject<MediaPacket>();
  metadata: MediaPacket | undefined;
  /** Latest configuration per kind and track, in arrival order. */
  readonly configs = new Map<string, MediaPacket>();
  hasVideo = false;
  started = false;

  constructor(
    readonly key: string,
    readonly origin: StreamOrigin,
    readonly via: readonly string[],
  ) {}

  push(packet: MediaPacket): void {
    if (packet.kind === 'script' && packet.script?.name === 'onMetaData') this.metadata = packet;
    if (packet.config) this.configs.set(`${packet.kind}:${packet.trackId ?? 0}`, packet);
    if (packet.kind === 'video') this.hasVideo = true;
    this.started = true;
    this.packets.next(packet);
  }

  /** Packets for a reader arriving now. */
  reader(): Observable<MediaPacket> {
    return defer(() => {
      if (!this.started) return this.packets;
      let waiting = this.hasVideo;
      const prefix = [...(this.metadata ? [this.metadata] : []), ...this.configs.values()];
      return concat(
        of(...prefix),
        this.packets.pipe(
          filter((p) => {
            if (waiting && p.kind === 'video' && p.keyframe && !p.config) waiting = false;
            return !waiting || p.config || p.kind === 'script';
          }),
        ),
      );
    });
  }
}

/**
 * The live streams of the process as packets, for pipelines that read other pipelines' output (the
 * `live` source). The play sinks' feed opens a tap per stream; readers learn of streams as they
 * start (and of those already running when they subscribe). Nothing is buffered for readers beyond
 * the metadata and sequence headers a late reader needs: a tap with no reader costs a Subject.
 */
export class LiveStreamTaps {
  readonly #open = new Map<string, Tap>();
  readonly #started = new Subject<TappedStream>();

  /** Streams as they start; on subscription, first those already live. */
  readonly streams$: Observable<TappedStream> = defer(() => concat(of(...[...this.#open.values()].map(toStream)), this.#started));

  open(key: string, origin: StreamOrigin, via: readonly string[]): TapHandle {
    // A key has one feed at a time (the registry refuses or revokes others); a new one replaces it.
    this.#open.get(key)?.packets.complete();
    const tap = new Tap(key, origin, via);
    this.#open.set(key, tap);
    this.#started.next(toStream(tap));
    let ended = false;
    return {
      push: (packet) => {
        if (!ended) tap.push(packet);
      },
      end: () => {
        if (ended) return;
        ended = true;
        if (this.#open.get(key) === tap) this.#open.delete(key);
        tap.packets.complete();
      },
    };
  }

  /** The server stops: every reader's stream ends. */
  close(): void {
    for (const tap of this.#open.values()) tap.packets.complete();
    this.#open.clear();
    this.#started.complete();
  }
}

function toStream(tap: Tap): TappedStream {
  return { key: tap.key, origin: tap.origin, via: tap.via, packets$: tap.reader() };
}
