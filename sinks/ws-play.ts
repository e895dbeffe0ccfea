import { inject, injectable, optional } from 'inversify';
import { LIVE_REGISTRY, type LiveRegistry } from '../core/live/registry.js';
import type { SinkComponent, SinkInstance } from '../core/pipeline/component.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';
import { LIVE_SERVER, type LiveServer } from '../core/server/listener.js';
import { playSinkOptions, servePlayers, type PlaySinkOptions } from './play-options.js';

/**
 * WebSocket-FLV players: `ws://HOST/APP/STREAM.flv` (no subprotocol) or `ws://HOST/play?app=…&stream=…`.
 * Each stream of the pipeline feeds its live channel; each player joins the channel of its key.
 */
@injectable()
export class WsPlaySink implements SinkComponent<PlaySinkOptions> {
  readonly role = 'sink';
  readonly type = 'ws-play';
  readonly description = 'Serves live streams to WebSocket-FLV players (ws:// and wss://)';
  readonly consumes = MEDIA_PACKETS;
  readonly options = playSinkOptions;

  constructor(
    // Optional so loading the built-in components never requires the live services; using this one does.
    @inject(LIVE_SERVER) @optional() readonly server: LiveServer | undefined,
    @inject(LIVE_REGISTRY) @optional() readonly registry: LiveRegistry | undefined,
  ) {}

  create(options: PlaySinkOptions): SinkInstance {
    return servePlayers(this.type, 'ws', this, options);
  }
}
