import { inject, injectable, optional } from 'inversify';
import type { SourceComponent, SourceInstance } from '../core/pipeline/component.js';
import { FLV_BYTES } from '../core/pipeline/kinds.js';
import { LIVE_SERVER, requireServer, type LiveServer } from '../core/server/listener.js';
import { publishOptionsSchema, publishSessions, type PublishOptions } from '../core/server/publish-sessions.js';

/**
 * Publishers over HTTP: POST or PUT `/APP/STREAM.flv` with the FLV as the request body, usually chunked
 * and endless (`ffmpeg -f flv http://HOST/APP/STREAM.flv`). The answer comes when the stream ends.
 */
@injectable()
export class HttpPublishSource implements SourceComponent<PublishOptions> {
  readonly role = 'source';
  readonly type = 'http-publish';
  readonly description = 'Takes live FLV from publishers as HTTP request bodies (POST/PUT), one stream per publisher';
  readonly produces = FLV_BYTES;
  readonly options = publishOptionsSchema;

  // Optional so that loading the built-in components never requires the listener; using this one does.
  constructor(@inject(LIVE_SERVER) @optional() private readonly server: LiveServer | undefined) {}

  create(options: PublishOptions): SourceInstance {
    return publishSessions(requireServer(this.server, this.type), ['http'], options);
  }
}
