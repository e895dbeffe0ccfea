import { requireRegistry, type LiveRegistry } from '../live/registry.js';
import { requireServer, type LiveServer } from '../server/listener.js';

/** The listener and the live registry a feature of `server:` needs, or a clear error naming what to load. */
export function requireLive(server: LiveServer | undefined, registry: LiveRegistry | undefined, feature: string): { server: LiveServer; registry: LiveRegistry } {
  const served = requireServer(server, feature);
  return { server: served, registry: requireRegistry(registry, feature) };
}
