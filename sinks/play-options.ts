import { WsflvError } from '../core/errors.js';
import type { LiveRegistry } from '../core/live/registry.js';
import { z } from 'zod';
import { isValidName } from '../core/server/routes.js';
import { liveSinkOptions } from './live.js';

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
