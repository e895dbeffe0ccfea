import { inject, injectable, optional } from 'inversify';
import { z } from 'zod';
import type { SourceComponent, SourceInstance } from '../core/pipeline/component.js';
import { FLV_BYTES } from '../core/pipeline/kinds.js';
import { LIVE_SERVER, requireServer, type LiveServer } from '../core/server/listener.js';
import { publishOptionsSchema, publishSessions } from '../core/server/publish-sessions.js';

const options = publishOptionsSchema
  .extend({
    transports: z.array(z.enum(['ws', 'http'])).min(1).default(['ws', 'http']).describe('how publishers may connect'),
  })
  .strict();

type Options = z.infer<typeof options>;

/** ws-publish and http-publish in one source, for a pipeline that takes publishers either way. */
@injectable()
export class PublishSource implements SourceComponent<Options> {
  readonly role = 'source';
  readonly type = 'publish';
  readonly description = 'Takes live FLV from publishers over WebSocket and HTTP, one stream per publisher';
  readonly produces = FLV_BYTES;
  readonly options = options;

  // Optional so that loading the built-in components never requires the listener; using this one does.
  constructor(@inject(LIVE_SERVER) @optional() private readonly server: LiveServer | undefined) {}

  create({ transports, ...rest }: Options): SourceInstance {
    return publishSessions(requireServer(this.server, this.type), [...new Set(transports)], rest);
  }
}
