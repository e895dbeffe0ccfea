import { injectable } from 'inversify';
import { Observable, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import { FlvDemuxer, FLV_MAX_TAG_SIZE, type FlvWarning } from '../core/flv/demuxer.js';
import type { MediaPacket } from '../core/media/packet.js';
import type { StageComponent, StreamContext } from '../core/pipeline/component.js';
import { FLV_BYTES, MEDIA_PACKETS } from '../core/pipeline/kinds.js';

export interface DemuxOptions {
  maxTagSize?: number;
  previousTagSize?: 'strict' | 'warn';
  onWarning?: (warning: FlvWarning) => void;
}

/**
 * FLV bytes in any chunking → one MediaPacket per tag. Errors with the demuxer's typed FlvError
 * (byte offset included) on malformed input, and when the bytes end inside a tag.
 */
export function demuxFlv(options: DemuxOptions = {}): OperatorFunction<Buffer, MediaPacket> {
  return (source) =>
    new Observable<MediaPacket>((subscriber) => {
      const demuxer = new FlvDemuxer(options);
      return source.subscribe({
        next(chunk) {
          let packets: MediaPacket[];
          try {
            packets = demuxer.push(chunk);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          for (const packet of packets) subscriber.next(packet);
        },
        error: (error) => subscriber.error(error),
        complete() {
          try {
            demuxer.end();
            subscriber.complete();
          } catch (error) {
            subscriber.error(error);
          }
        },
      });
    });
}

const options = z
  .object({
    maxTagSize: z.number().int().min(1).max(FLV_MAX_TAG_SIZE).default(FLV_MAX_TAG_SIZE).describe('largest accepted tag body in bytes'),
    previousTagSize: z.enum(['strict', 'warn']).default('warn').describe('a wrong PreviousTagSize is an error, or a logged warning'),
  })
  .strict();

@injectable()
export class FlvDemuxStage implements StageComponent<z.infer<typeof options>> {
  readonly role = 'stage';
  readonly type = 'flv-demux';
  readonly description = 'Parses FLV bytes into media packets (one per tag)';
  readonly consumes = FLV_BYTES;
  readonly produces = MEDIA_PACKETS;
  readonly options = options;

  create(config: z.infer<typeof options>) {
    return (ctx: StreamContext) => {
      const warned = new Set<string>();
      return demuxFlv({
        ...config,
        // One log line per kind of warning per stream: a writer that gets one field wrong gets it wrong on every tag.
        onWarning: (warning) => {
          if (warned.has(warning.code)) return;
          warned.add(warning.code);
          ctx.logger.warn({ code: warning.code, offset: warning.offset }, warning.message);
        },
      });
    };
  }
}
