/**
 * An FLV file as a live stream for tests: the header, then one whole tag at a time, each released
 * when the wall clock reaches its timestamp (relative to the first tag), as a live encoder would.
 */
import { createReadStream } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { readFlvTags } from '../../core/flv/tag-reader.js';
import type { TrackKind } from '../../core/media/packet.js';

export interface PacedFlvItem {
  /** The 13-byte FLV header (with PreviousTagSize0), before the first tag only. */
  header?: Buffer;
  /** One whole tag including its PreviousTagSize. */
  tag: Buffer;
  dts: number;
  kind: TrackKind;
  keyframe: boolean;
}

/**
 * Yields the file's tags paced in real time by dts. Stops quietly when `signal` aborts.
 * `speed` > 1 plays faster than real time.
 */
export async function* pacedFlvTags(file: string, options: { signal?: AbortSignal; speed?: number } = {}): AsyncGenerator<PacedFlvItem> {
  const speed = options.speed ?? 1;
  const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
  let start: number | undefined;
  let firstDts = 0;
  try {
    for await (const { header, tag, packet } of readFlvTags(stream as AsyncIterable<Buffer>)) {
      if (options.signal?.aborted) return;
      if (start === undefined) {
        start = Date.now();
        firstDts = packet.dts;
      }
      const due = start + (packet.dts - firstDts) / speed;
      const wait = due - Date.now();
      if (wait > 0) {
        try {
          await delay(wait, undefined, { signal: options.signal });
        } catch {
          return; // aborted
        }
      }
      yield { header, tag, dts: packet.dts, kind: packet.kind, keyframe: packet.keyframe };
    }
  } finally {
    stream.destroy();
  }
}
