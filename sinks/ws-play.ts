import { inject, injectable, optional } from 'inversify';
import type { Observable } from 'rxjs';
import type { z } from 'zod';
import { LIVE_REGISTRY, type LiveRegistry } from '../core/live/registry.js';
import type { MediaPacket } from '../core/media/packet.js';
import type { SinkComponent, SinkInstance, StreamContext } from '../core/pipeline/component.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';
import { LIVE_SERVER, requireServer, type LiveServer } from '../core/server/listener.js';
import { playSinkOptions, requireRegistry } from './play-options.js';
import { feedChannel, playOptions } from './live.js';

type Options = z.infer<typeof playSinkOptions>;

/**
 * WebSocket-FLV players: `ws://HOST/APP/STREAM.flv` (no subprotocol) or `ws://HOST/play?app=…&stream=…`.
 * Each stream of the pipeline feeds its live channel; each player joins the channel of its key.
 */
@injectable()
export class WsPlaySink implements SinkComponent<Options> {
  readonly role = 'sink';
  readonly type = 'ws-play';
  readonly description = 'Serves live streams to WebSocket-FLV players (ws:// and wss://)';
  readonly consumes = MEDIA_PACKETS;
  readonly options = playSinkOptions;

  constructor(
    // Optional so loading the built-in components never requires the live services; using this one does.
    @inject(LIVE_SERVER) @optional() private readonly server: LiveServer | undefined,
    @inject(LIVE_REGISTRY) @optional() private readonly registry: LiveRegistry | undefined,
  ) {}

  create(options: Options): SinkInstance {
    const server = requireServer(this.server, this.type);
    const registry = requireRegistry(this.registry, this.type);
    const unregister = server.acceptPlayers('ws', (player) => registry.play(player, playOptions(options)), { apps: options.apps });
    return {
      consume: (ctx: StreamContext, data$: Observable<MediaPacket>) => feedChannel(registry, ctx, data$, options),
      close: () => unregister(),
    };
  }
}
