import { WsflvError } from '../errors.js';
import type { LiveRegistry } from '../live/registry.js';
import { requireServer, type LiveServer } from '../server/listener.js';

/** The listener and the live registry a feature of `server:` needs, or a clear error naming what to load. */
export function requireLive(server: LiveServer | undefined, registry: LiveRegistry | undefined, feature: string): { server: LiveServer; registry: LiveRegistry } {
  const served = requireServer(server, feature);
  if (!registry) throw new WsflvError('WSFLV_ERR_NO_REGISTRY', `\`${feature}\` needs the live registry: load liveModule (core/live/module.ts) with the components`);
  return { server: served, registry };
}
