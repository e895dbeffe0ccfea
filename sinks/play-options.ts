import type { Observable } from 'rxjs';
import { z } from 'zod';
import { WsflvError } from '../core/errors.js';
import type { LiveRegistry } from '../core/live/registry.js';
import { CLOSE } from '../core/live/types.js';
import type { MediaPacket } from '../core/media/packet.js';
import type { SinkInstance, StreamContext } from '../core/pipeline/component.js';
import { requireServer, type Framing, type LiveServer } from '../core/server/listener.js';
import { isValidName } from '../core/server/routes.js';
import { feedChannel, liveSinkOptions, playOptions } from './live.js';

/** Options of ws-play and http-play: the live player options, and which apps this sink serves. */
export const playSinkOptions = liveSinkOptions
  .extend({
    apps: z
      .array(z.string().refine(isValidName, 'app names use A-Z a-z 0-9 _ . -'))
      .min(1)
      .optional()
      .describe('only serve players of these apps (default: any app)'),
  })
  .strict();

export function requireRegistry(registry: LiveRegistry | undefined, component: string): LiveRegistry {
  if (!registry) throw new WsflvError('WSFLV_ERR_NO_REGISTRY', `\`${component}\` needs the live registry: load liveModule (core/live/module.ts) with the components`);
  return registry;
}

export type PlaySinkOptions = z.infer<typeof playSinkOptions>;

/**
 * What ws-play and http-play do, for one framing: take that framing's players from the listener into
 * the registry, and feed each stream of the pipeline into its channel.
 */
export function servePlayers(
  component: string,
  framing: Framing,
  services: { server: LiveServer | undefined; registry: LiveRegistry | undefined },
  options: PlaySinkOptions,
): SinkInstance {
  const server = requireServer(services.server, component);
  const registry = requireRegistry(services.registry, component);
  const perPlayer = playOptions(options);
  const unregister = server.acceptPlayers(framing, (player) => registry.play(player, perPlayer), {
    apps: options.apps,
    // What a GET would get at once, for a HEAD: 404 unless the stream is live or players may wait for it.
    probe: (key) => (registry.has(key) || (perPlayer.waitForPublisherMs ?? 0) > 0 ? undefined : { code: CLOSE.streamNotFound, reason: `no stream is being published at ${key}` }),
  });
  return {
    consume: (ctx: StreamContext, data$: Observable<MediaPacket>) => feedChannel(registry, ctx, data$, options),
    close: () => unregister(),
  };
}
