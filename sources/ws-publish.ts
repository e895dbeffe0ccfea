import { inject, injectable, optional } from 'inversify';
import type { SourceComponent, SourceInstance } from '../core/pipeline/component.js';
import { FLV_BYTES } from '../core/pipeline/kinds.js';
import { LIVE_SERVER, requireServer, type LiveServer } from '../core/server/listener.js';
import { publishOptionsSchema, publishSessions, type PublishOptions } from '../core/server/publish-sessions.js';

/**
 * Publishers over WebSocket: `ws://HOST/APP/STREAM.flv` with subprotocol `publisher`, or
 * `ws://HOST/publish?app=APP&stream=STREAM`; binary messages of FLV in any chunking.
 */
@injectable()
export class WsPublishSource implements SourceComponent<PublishOptions> {
  readonly role = 'source';
  readonly type = 'ws-publish';
  readonly description = 'Takes live FLV from publishers over WebSocket (ws:// and wss://), one stream per publisher';
  readonly produces = FLV_BYTES;
  readonly options = publishOptionsSchema;

  // Optional so that loading the built-in components never requires the listener; using this one does.
  constructor(@inject(LIVE_SERVER) @optional() private readonly server: LiveServer | undefined) {}

  create(options: PublishOptions): SourceInstance {
    return publishSessions(requireServer(this.server, this.type), ['ws'], options);
  }
}
