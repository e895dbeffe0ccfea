import { inspect } from 'node:util';
import { z } from 'zod';

/**
 * A secret from the config. It prints, serialises and logs as `[secret]` whatever serialises it (pino,
 * JSON.stringify, util.inspect, a template string); only reveal() gives the value, for the HMAC.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[secret]';
  }
  toJSON(): string {
    return '[secret]';
  }
  [inspect.custom](): string {
    return '[secret]';
  }
}

export const SECRET_MIN_LENGTH = 16;

/**
 * `${SECRET:-}` unset reads as null (no secret: the direction is open); digits read as a number, taken
 * back as the digits when that is exact (a longer run of digits must be quoted in the YAML).
 */
const secret = z
  .preprocess(
    (value) => (value === null || value === '' ? undefined : typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value),
    z.string().min(SECRET_MIN_LENGTH, `a secret needs at least ${SECRET_MIN_LENGTH} characters`).optional(),
  )
  .transform((value) => (value === undefined ? undefined : new Secret(value)));

const appAuth = z
  .object({
    publishSecret: secret.describe('HMAC key publishers must sign their URL with (?expires=&sign=); unset = publishing is open'),
    playSecret: secret.describe('HMAC key players must sign their URL with; unset = playing is open'),
  })
  .strict();

export type AppAuth = z.infer<typeof appAuth>;

/** `server.auth`: signed URLs, per app and per direction. Everything open unless a secret is set. */
export const authConfigSchema = z
  .object({
    default: appAuth.default({}).describe('secrets for apps not listed under `apps`'),
    apps: z.record(z.string(), appAuth).default({}).describe('secrets per app name; a listed app uses its own entry only (an empty one is open)'),
  })
  .strict()
  .default({})
  .describe('signed URLs: `?expires=UNIX_SECONDS&sign=HEX`, HMAC-SHA256 over `/APP/STREAM.flv:EXPIRES` (see `wsflv sign`)');

export type AuthConfig = z.infer<typeof authConfigSchema>;

/** `${HOOK:-}` unset reads as null: no hook. */
const hookUrl = z.preprocess(
  (value) => (value === null || value === '' ? undefined : value),
  z
    .string()
    .url()
    .refine((url) => /^https?:$/.test(new URL(url).protocol), 'a hook must be an http:// or https:// URL')
    .optional(),
);

/** `server.hooks`: HTTP POSTs about publishers and players; the first two decide, the others inform. */
export const hooksConfigSchema = z
  .object({
    on_publish: hookUrl.describe('asked before a publisher is let in: 2xx allows, anything else refuses (403 / close 4403)'),
    on_play: hookUrl.describe('asked before a player is let in: 2xx allows, anything else refuses (403 / close 4403)'),
    on_unpublish: hookUrl.describe('told when a publisher let in has left (not waited for)'),
    on_stop: hookUrl.describe('told when a player let in has left (not waited for)'),
    timeoutMs: z.number().int().min(50).max(60_000).default(2000).describe('ms a hook gets to answer'),
    onTimeout: z.enum(['allow', 'deny']).default('deny').describe('what an on_publish / on_play hook that did not answer in time decides'),
  })
  .strict()
  .default({})
  .describe('HTTP hooks: a JSON POST (action, app, stream, clientId, address, transport, query) per publisher and player');

export type HooksConfig = z.infer<typeof hooksConfigSchema>;

/** The secret `app` needs for `direction`, if any. */
export function secretFor(auth: AuthConfig, app: string, direction: 'publish' | 'play'): Secret | undefined {
  const entry = Object.hasOwn(auth.apps, app) ? auth.apps[app]! : auth.default;
  return direction === 'publish' ? entry.publishSecret : entry.playSecret;
}

/** Access control's fields of the `server:` section. */
export const accessConfigShape = { auth: authConfigSchema, hooks: hooksConfigSchema };

/** What the access gates read of the `server:` section. */
export interface AccessConfig {
  auth: AuthConfig;
  hooks: HooksConfig;
}
