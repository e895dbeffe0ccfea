import { inject, injectable, optional } from 'inversify';
import { filter, map, Subject, takeUntil } from 'rxjs';
import { z } from 'zod';
import { LIVE_REGISTRY, requireRegistry, type LiveRegistry } from '../core/live/registry.js';
import { LOGGER, type Logger } from '../core/logger.js';
import type { SourceComponent, SourceInstance, StreamSession } from '../core/pipeline/component.js';
import type { KeyReader } from '../core/pipeline/key-flow.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';
import { compileMatch, matchOption } from '../core/pipeline/match.js';

const options = z
  .object({
    match: matchOption.default(['**']),
  })
  .strict();

type Options = z.infer<typeof options>;

/**
 * Streams of the live registry as the input of another pipeline: one session per live stream whose
 * key `match` takes, with the packets its players get (from a keyframe, with metadata and sequence
 * headers, for a stream already running). So `ingest` serves players and `archive` records `live/*`
 * from the registry, and a plugin pipeline analyses `vip/*`. A stream this pipeline wrote itself
 * (a `republish`, however many pipelines ago) is never read again, and a file whose pipelines would
 * read their own output is refused at load.
 */
@injectable()
export class LiveSource implements SourceComponent<Options>, KeyReader {
  readonly role = 'source';
  readonly type = 'live';
  readonly description = 'Reads live streams from the registry (other pipelines\' output), one session per stream';
  readonly produces = MEDIA_PACKETS;
  readonly options = options;

  constructor(
    @inject(LIVE_REGISTRY) @optional() private readonly registry: LiveRegistry | undefined,
    @inject(LOGGER) private readonly logger: Logger,
  ) {}

  readsKeys(config: Options): readonly string[] {
    return config.match;
  }

  create(config: Options, pipeline: string): SourceInstance {
    const registry = requireRegistry(this.registry, this.type);
    const takes = compileMatch(config.match);
    const stop = new Subject<void>();
    const logger = this.logger.child({ pipeline, component: this.type });
    return {
      sessions$: registry.taps.streams$.pipe(
        filter((stream) => takes(stream.key) && !stream.via.includes(pipeline)),
        map((stream): StreamSession => ({
          key: stream.key,
          origin: { ...stream.origin, via: stream.via },
          data$: stream.packets$.pipe(takeUntil(stop)),
          // The publisher belongs to another pipeline: this one's failure is logged, not passed on.
          abort: (error) => logger.debug({ stream: stream.key, err: error }, 'reading a live stream ended early'),
        })),
        takeUntil(stop),
      ),
      stop: () => {
        stop.next();
        stop.complete();
      },
    };
  }
}
