import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { inject, injectable } from 'inversify';
import { defer, Observable } from 'rxjs';
import { z } from 'zod';
import { CLOCK, type Clock } from '../core/clock.js';
import { readFlvTags } from '../core/flv/tag-reader.js';
import type { SourceComponent, SourceInstance, StreamProgress, StreamSession } from '../core/pipeline/component.js';
import { FLV_BYTES } from '../core/pipeline/kinds.js';

const options = z
  .object({
    path: z.string().min(1).describe('FLV file to read'),
    key: z.string().min(1).optional().describe('stream key (default: the file name without extension)'),
    realtime: z.boolean().default(false).describe('pace tags by their timestamps instead of reading as fast as possible'),
    loop: z.boolean().default(false).describe('start over at the end (realtime only)'),
  })
  .strict()
  .refine((o) => !o.loop || o.realtime, { message: '`loop` needs `realtime: true` (an unpaced loop never ends)', path: ['loop'] });

type Options = z.infer<typeof options>;

/** Reads an FLV file as one stream of FLV bytes: raw chunks, or whole tags paced in real time. */
@injectable()
export class FileSource implements SourceComponent<Options> {
  readonly role = 'source';
  readonly type = 'file';
  readonly description = 'Reads an FLV file (as fast as possible, or paced in real time, optionally looping)';
  readonly produces = FLV_BYTES;
  readonly options = options;

  constructor(@inject(CLOCK) private readonly clock: Clock) {}

  create(config: Options): SourceInstance {
    let stopped = false;
    const sessions$ = defer(async () => {
      const size = (await stat(config.path)).size;
      const progress: StreamProgress = { done: 0, total: size, unit: 'bytes' };
      const reading: ReadControl = {};
      const session: StreamSession<Buffer> = {
        key: config.key ?? basename(config.path, extname(config.path)),
        origin: { transport: 'file', address: config.path },
        data$: config.realtime ? this.#paced(config, progress, () => stopped) : this.#raw(config.path, progress, () => stopped, reading),
        progress: () => progress,
        // A paced file is read at the speed of time already; an unpaced one waits for a slow sink.
        pause: () => reading.pause?.(),
        resume: () => reading.resume?.(),
      };
      return session as StreamSession;
    });
    return {
      sessions$,
      stop: () => {
        stopped = true;
      },
    };
  }

  #raw(path: string, progress: StreamProgress, isStopped: () => boolean, reading: ReadControl): Observable<Buffer> {
    return new Observable<Buffer>((subscriber) => {
      const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
      reading.pause = () => stream.pause();
      reading.resume = () => stream.resume();
      stream.on('data', (chunk) => {
        progress.done += chunk.length;
        subscriber.next(chunk as Buffer);
        if (isStopped()) {
          stream.destroy();
          subscriber.complete();
        }
      });
      stream.on('error', (error) => subscriber.error(error));
      stream.on('end', () => subscriber.complete());
      return () => stream.destroy();
    });
  }

  #paced(config: Options, progress: StreamProgress, isStopped: () => boolean): Observable<Buffer> {
    return new Observable<Buffer>((subscriber) => {
      let cancelled = false;
      const run = async () => {
        const start = this.clock.now();
        let mediaBase = 0; // media time already played by earlier loops
        let first = true;
        do {
          let firstDts: number | undefined;
          let lastDts = 0;
          progress.done = 0;
          for await (const { header, tag, packet } of readFlvTags(createReadStream(config.path, { highWaterMark: 64 * 1024 }))) {
            if (cancelled || isStopped()) return;
            firstDts ??= packet.dts;
            lastDts = Math.max(lastDts, packet.dts - firstDts);
            const due = start + mediaBase + (packet.dts - firstDts);
            const wait = due - this.clock.now();
            if (wait > 1) await sleep(wait);
            if (cancelled) return;
            progress.done += tag.length;
            if (header && first) subscriber.next(header);
            first = false;
            subscriber.next(tag);
          }
          mediaBase += lastDts + 40;
        } while (config.loop && !cancelled && !isStopped());
      };
      run().then(
        () => subscriber.complete(),
        (error) => subscriber.error(error),
      );
      return () => {
        cancelled = true;
      };
    });
  }
}

/** Set by the reading loop once it runs: how a sink's hold reaches the file stream. */
interface ReadControl {
  pause?(): void;
  resume?(): void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
