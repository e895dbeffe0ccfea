import { injectable } from 'inversify';
import { Observable } from 'rxjs';
import { z } from 'zod';
import { FlvFileWriter } from '../core/flv/file-writer.js';
import type { MediaPacket } from '../core/media/packet.js';
import type { SinkComponent, SinkInstance, StreamContext } from '../core/pipeline/component.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';

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
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  const [app = key, stream = key] = key.includes('/') ? key.split('/', 2) : [key, key];
  return template.replaceAll('{key}', safe(key)).replaceAll('{app}', safe(app)).replaceAll('{stream}', safe(stream));
}

/** Writes each stream to an FLV file, finalised (header flags rewritten) when the stream ends. */
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
          // close() flushes, so it can fail too (disk full): every path reports that instead of hanging.
          const closeQuietly = () => {
            try {
              writer.close();
            } catch {
              // Already failing: the first error is the one worth reporting.
            }
          };
          const fail = (error: unknown) => {
            closeQuietly();
            subscriber.error(error);
          };
          const subscription = data$.subscribe({
            next: (packet) => {
              try {
                writer.write(packet);
              } catch (error) {
                fail(error);
              }
            },
            error: fail,
            complete: () => {
              try {
                writer.close();
              } catch (error) {
                subscriber.error(error);
                return;
              }
              ctx.logger.info({ path, tags: writer.tags, bytes: writer.bytesWritten }, 'file written');
              subscriber.complete();
            },
          });
          return () => {
            subscription.unsubscribe();
            closeQuietly();
          };
        }),
    };
  }
}
