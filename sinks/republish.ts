import { inject, injectable, optional } from 'inversify';
import { defer, type Observable } from 'rxjs';
import { z } from 'zod';
import { LIVE_REGISTRY, requireRegistry, type LiveRegistry } from '../core/live/registry.js';
import type { MediaPacket } from '../core/media/packet.js';
import type { SinkComponent, SinkInstance, StreamContext } from '../core/pipeline/component.js';
import type { KeyWriter } from '../core/pipeline/key-flow.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';
import { templateGlob } from '../core/pipeline/match.js';
import { WsflvError } from '../core/errors.js';
import { isValidName } from '../core/server/routes.js';
import { feedChannel, liveSinkOptions } from './live.js';

const options = liveSinkOptions
  .pick({ graceMs: true, headerWaitMs: true, publisherPolicy: true, gop: true })
  .extend({
    key: z
      .string()
      .regex(/^[A-Za-z0-9_.{}-]+\/[A-Za-z0-9_.{}-]+$/, 'a key template is APP/STREAM, with {app}, {stream} or {key} where the input key goes')
      .describe('the key its streams are published under, e.g. "{app}/{stream}_480p"'),
  })
  .strict();

type Options = z.infer<typeof options>;

/** `{app}/{stream}_480p` for `live/cam1` is `live/cam1_480p`. */
export function expandKey(template: string, key: string): string {
  const slash = key.indexOf('/');
  const app = slash < 0 ? '' : key.slice(0, slash);
  const stream = slash < 0 ? key : key.slice(slash + 1);
  return template.replaceAll('{key}', key).replaceAll('{app}', app).replaceAll('{stream}', stream);
}

/**
 * Feeds what its branch made back into the live registry under a new key, so players play a
 * rendition like any stream and another pipeline can read it with the `live` source. Players of
 * the new key come in through the play sinks of whichever pipeline serves that key.
 */
@injectable()
export class RepublishSink implements SinkComponent<Options>, KeyWriter {
  readonly role = 'sink';
  readonly type = 'republish';
  readonly description = 'Publishes its streams into the live registry under a new key (renditions, derived streams)';
  readonly consumes = MEDIA_PACKETS;
  readonly options = options;

  constructor(@inject(LIVE_REGISTRY) @optional() private readonly registry: LiveRegistry | undefined) {}

  writesKeys(config: Options, inputs: readonly string[]): readonly string[] {
    return inputs.filter((g) => !g.startsWith('!')).map((glob) => templateGlob(config.key, glob));
  }

  create(config: Options): SinkInstance {
    const registry = requireRegistry(this.registry, this.type);
    return {
      consume: (ctx: StreamContext, data$: Observable<MediaPacket>) =>
        defer(() => {
          const key = expandKey(config.key, ctx.key);
          const [app = '', stream = ''] = key.split('/');
          // A bad key costs this sink only (a plain error): the stream and its other sinks go on.
          if (!isValidName(app) || !isValidName(stream)) {
            throw new WsflvError('WSFLV_ERR_REPUBLISH_KEY', `republish: \`${config.key}\` makes \`${key}\` from \`${ctx.key}\`, which is not a valid APP/STREAM key`);
          }
          if (key === ctx.key) throw new WsflvError('WSFLV_ERR_REPUBLISH_KEY', `republish: \`${config.key}\` gives \`${ctx.key}\` its own key back`);
          return feedChannel(registry, ctx, data$, config, key);
        }),
    };
  }
}
