import { inject, injectable } from 'inversify';
import { CLOCK, type Clock } from '../clock.js';
import { CLOSE } from '../live/close.js';
import { LOGGER, type Logger } from '../logger.js';
import type { AdmissionGate, AdmissionRequest, GateVerdict, Refusal } from '../server/admission.js';
import type { ServerConfig } from '../server/config.js';
import type { AccessConfig } from './config.js';
import { SERVER_CONFIG } from '../server/tokens.js';
import { secretFor, type AppAuth, type AuthConfig } from './config.js';
import { checkSignature } from './signed-url.js';

/** What a peer without a valid signature is told. */
export const SIGNATURE_REFUSALS = {
  missing: { status: 401, code: CLOSE.unauthorized, reason: 'signature required' },
  invalid: { status: 401, code: CLOSE.unauthorized, reason: 'invalid signature' },
  expired: { status: 403, code: CLOSE.forbidden, reason: 'signature expired' },
} as const satisfies Record<string, Refusal>;

/**
 * `server.auth`: a publisher or player of an app with a secret for its direction must come with a
 * valid, unexpired signature (core/access/signed-url.ts). Apps without one are open.
 */
@injectable()
export class SignedUrlGate implements AdmissionGate {
  readonly name = 'signed-url';
  readonly #auth: AuthConfig;
  readonly #clock: Clock;

  constructor(
    @inject(SERVER_CONFIG) config: ServerConfig & AccessConfig,
    @inject(CLOCK) clock: Clock,
    @inject(LOGGER) logger: Logger,
  ) {
    this.#auth = config.auth;
    this.#clock = clock;
    const log = logger.child({ component: 'access' });
    const entries: [string, AppAuth][] = [['(default)', this.#auth.default], ...Object.entries(this.#auth.apps)];
    for (const [app, entry] of entries) {
      if (entry.publishSecret && entry.playSecret && entry.publishSecret.reveal() === entry.playSecret.reveal()) {
        log.warn({ app }, 'publishSecret and playSecret are the same: a signed play URL can publish too; use two secrets');
      }
    }
    const signed = entries.flatMap(([app, entry]) => [...(entry.publishSecret ? [`publish ${app}`] : []), ...(entry.playSecret ? [`play ${app}`] : [])]);
    if (signed.length > 0) log.info({ signed }, 'signed URLs required');
  }

  admit(request: AdmissionRequest): GateVerdict {
    const { app, stream, query } = request.target;
    const secret = secretFor(this.#auth, app, request.direction);
    if (!secret) return undefined;
    const check = checkSignature(secret.reveal(), app, stream, query, Math.floor(this.#clock.wallNow() / 1000));
    return check.ok ? undefined : { refuse: SIGNATURE_REFUSALS[check.problem] };
  }
}
