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
  /**
   * `first` (the default): of an Enhanced RTMP multitrack stream (OBS's multitrack video, several
   * audio languages), keep the first video and the first audio track seen, and warn once for each
   * track left out: players, recorders and the GOP cache expect one track of each. `all`: keep every track.
   */
  tracks?: 'first' | 'all';
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
      const keepAll = options.tracks === 'all';
      // The track kept for each kind, and the tracks already warned about.
      const kept = new Map<string, number>();
      const left = new Set<string>();
      const wanted = (packet: MediaPacket): boolean => {
        if (keepAll || packet.kind === 'script') return true;
        const track = packet.trackId ?? 0;
        const first = kept.get(packet.kind);
        if (first === undefined) kept.set(packet.kind, track);
        if (first === undefined || track === first) return true;
        const id = `${packet.kind}:${track}`;
        if (!left.has(id)) {
          left.add(id);
          options.onWarning?.({ code: 'track-left-out', offset: packet.offset ?? 0, message: `${packet.kind} track ${track} left out: only the first ${packet.kind} track (${first}) of a multitrack stream is kept` });
        }
        return false;
      };
      return source.subscribe({
        next(chunk) {
          let packets: MediaPacket[];
          try {
            packets = demuxer.push(chunk);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          for (const packet of packets) if (wanted(packet)) subscriber.next(packet);
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
    tracks: z.enum(['first', 'all']).default('first').describe('of a multitrack stream, keep the first video and audio track (logged once per track left out), or all'),
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
          // Each track left out is its own news (the demux already says it once per track).
          const key = warning.code === 'track-left-out' ? warning.message : warning.code;
          if (warned.has(key)) return;
          warned.add(key);
          ctx.logger.warn({ code: warning.code, offset: warning.offset }, warning.message);
        },
      });
    };
  }
}
