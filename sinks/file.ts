import { injectable } from 'inversify';
import { Observable } from 'rxjs';
import { z } from 'zod';
import { FlvFileWriter } from '../core/flv/file-writer.js';
import type { MediaPacket } from '../core/media/packet.js';
import type { SinkComponent, SinkInstance, StreamContext } from '../core/pipeline/component.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';
import { safeName } from './safe-name.js';

const options = z
  .object({
    path: z
      .string()
      .min(1)
      .describe('output file; `{key}`, `{app}` and `{stream}` are replaced per stream (unsafe characters become `_`)'),
  })
  .strict();

type Options = z.infer<typeof options>;

/** Fills `{key}`, `{app}`, `{stream}` with names reduced to a safe character set, so no stream name can leave the directory. */
export function outputPath(template: string, key: string): string {
  const [app = key, stream = key] = key.includes('/') ? key.split('/', 2) : [key, key];
  return template.replaceAll('{key}', safeName(key)).replaceAll('{app}', safeName(app)).replaceAll('{stream}', safeName(stream));
}

/** Bytes waiting for the disk before a file source is asked to wait. */
const HOLD_BYTES = 8 * 1024 * 1024;

/**
 * Writes each stream to an FLV file, finalised (header flags rewritten) when the stream ends. Writes
 * never block the event loop (see FlvFileWriter); a headless run waits for a slow disk.
 */
@injectable()
export class FileSink implements SinkComponent<Options> {
  readonly role = 'sink';
  readonly type = 'file';
  readonly description = 'Writes an FLV file per stream';
  readonly consumes = MEDIA_PACKETS;
  readonly options = options;

  create(config: Options): SinkInstance {
    return {
      consume: (ctx: StreamContext, data$: Observable<MediaPacket>) =>
        new Observable<never>((subscriber) => {
          const path = outputPath(config.path, ctx.key);
          let writer: FlvFileWriter;
          try {
            writer = new FlvFileWriter(path);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          let done = false;
          const fail = (error: unknown) => {
            if (done) return;
            done = true;
            // The first error is the one worth reporting; close() would repeat it.
            writer.close().catch(() => undefined);
            subscriber.error(error);
          };
          // A disk slower than the stream: a file source waits for it; a live one is bounded by the backlog.
          let holding = false;
          const subscription = data$.subscribe({
            next: (packet) => {
              try {
                writer.write(packet);
              } catch (error) {
                fail(error);
                return;
              }
              if (!holding && writer.backlog > HOLD_BYTES) {
                holding = true;
                const drained = writer.drained().finally(() => (holding = false));
                drained.catch(fail);
                ctx.hold(drained);
              }
            },
            error: fail,
            complete: () => {
              writer.close().then(
                () => {
                  if (done) return;
                  done = true;
                  ctx.logger.info({ path, tags: writer.tags, bytes: writer.bytesWritten }, 'file written');
                  subscriber.complete();
                },
                fail,
              );
            },
          });
          return () => {
            subscription.unsubscribe();
            writer.close().catch(() => undefined);
          };
        }),
    };
  }
}
