import { inject, injectable } from 'inversify';
import type { LiveTransport } from '../live/types.js';
import { CLOSE } from '../live/close.js';
import { LOGGER, type Logger } from '../logger.js';
import { METRICS, type Metrics } from '../metrics.js';
import type { AdmissionGate, AdmissionRequest, GateVerdict, Refusal } from '../server/admission.js';
import type { ServerConfig } from '../server/config.js';
import type { AccessConfig } from './config.js';
import { SERVER_CONFIG } from '../server/tokens.js';
import type { HooksConfig } from './config.js';

export type HookAction = 'on_publish' | 'on_play' | 'on_unpublish' | 'on_stop';

/** The JSON body POSTed to every hook. */
export interface HookBody {
  action: HookAction;
  app: string;
  stream: string;
  /** The connection's id, as in the logs and the API (`p-12`, `v-40`); the same in on_publish and on_unpublish. */
  clientId: string;
  /** `ip:port` of the peer. */
  address: string;
  transport: LiveTransport;
  /** The stream URL's query parameters (the first value of a repeated one). */
  query: Record<string, string>;
}

/** How a hook call went. */
export type HookOutcome = { kind: 'answered'; status: number } | { kind: 'timeout' } | { kind: 'failed'; error: Error };

export const HOOK_REFUSALS = {
  denied: (action: HookAction): Refusal => ({ status: 403, code: CLOSE.forbidden, reason: `denied by ${action} hook` }),
  timeout: (action: HookAction): Refusal => ({ status: 503, code: CLOSE.tryAgainLater, reason: `${action} hook timed out` }),
  failed: (action: HookAction): Refusal => ({ status: 503, code: CLOSE.tryAgainLater, reason: `${action} hook unavailable` }),
};

/** POST `body` as JSON to `url`; never throws. Redirects are not followed (a 3xx is an answer). */
export async function postHook(url: string, body: HookBody, timeoutMs: number): Promise<HookOutcome> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'wsflv' },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal,
    });
    // Only the status counts: let the connection go back to the pool without reading the body.
    res.body?.cancel().catch(() => undefined);
    return { kind: 'answered', status: res.status };
  } catch (error) {
    if (signal.aborted) return { kind: 'timeout' };
    return { kind: 'failed', error: error as Error };
  }
}

/** A hook URL fit for a log line: no credentials, no query. */
function shown(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/**
 * `server.hooks`. on_publish / on_play are asked before the connection is let in (before a WebSocket
 * handshake is answered, before an HTTP response starts): a 2xx answer allows; any other answer refuses
 * with 403 / close 4403; no answer within `timeoutMs` allows or refuses (503 / close 1013) as
 * `onTimeout` says; an unreachable hook refuses (503 / close 1013).
 *
 * on_unpublish / on_stop are told, without waiting, when a publisher / player that was let in leaves,
 * and also when one allowed by on_publish / on_play did not open after all (a limit, the peer left), so
 * every allowing on_publish is followed by exactly one on_unpublish. A HEAD request asks no hook.
 */
@injectable()
export class HooksGate implements AdmissionGate {
  readonly name = 'hooks';
  readonly #hooks: HooksConfig;
  readonly #logger: Logger;
  readonly #calls;

  constructor(
    @inject(SERVER_CONFIG) config: ServerConfig & AccessConfig,
    @inject(LOGGER) logger: Logger,
    @inject(METRICS) metrics: Metrics,
  ) {
    this.#hooks = config.hooks;
    this.#logger = logger.child({ component: 'hooks' });
    this.#calls = metrics.counter('wsflv_hook_calls_total', 'HTTP hook calls, by hook and outcome (on_publish, on_play: allow, deny, timeout, failed; on_unpublish, on_stop: sent, rejected, timeout, failed)', ['hook', 'outcome']);
    const configured = (['on_publish', 'on_play', 'on_unpublish', 'on_stop'] as const).filter((h) => this.#hooks[h]);
    if (configured.length > 0) this.#logger.info({ hooks: configured, timeoutMs: this.#hooks.timeoutMs, onTimeout: this.#hooks.onTimeout }, 'HTTP hooks on');
  }

  admit(request: AdmissionRequest): GateVerdict | Promise<GateVerdict> {
    if (request.method === 'HEAD') return undefined;
    const [ask, tell] = request.direction === 'publish' ? (['on_publish', 'on_unpublish'] as const) : (['on_play', 'on_stop'] as const);
    const askUrl = this.#hooks[ask];
    const tellUrl = this.#hooks[tell];
    if (!askUrl && !tellUrl) return undefined;
    const release = tellUrl
      ? (opened: boolean) => {
          if (opened || askUrl) this.#tell(tell, tellUrl, request);
        }
      : undefined;
    if (!askUrl) return { release };
    return this.#ask(ask, askUrl, request).then((refusal) => (refusal ? { refuse: refusal } : { release }));
  }

  /** The hook's decision: undefined to allow, or why not. */
  async #ask(action: 'on_publish' | 'on_play', url: string, request: AdmissionRequest): Promise<Refusal | undefined> {
    const outcome = await postHook(url, bodyFor(action, request), this.#hooks.timeoutMs);
    const fields = { hook: action, id: request.id, key: request.target.key, address: request.address };
    switch (outcome.kind) {
      case 'answered':
        if (outcome.status >= 200 && outcome.status < 300) {
          this.#calls.labels(action, 'allow').inc();
          return undefined;
        }
        this.#calls.labels(action, 'deny').inc();
        this.#logger.info({ ...fields, status: outcome.status }, `refused by the ${action} hook`);
        return HOOK_REFUSALS.denied(action);
      case 'timeout':
        this.#calls.labels(action, 'timeout').inc();
        this.#logger.warn({ ...fields, url: shown(url), timeoutMs: this.#hooks.timeoutMs, onTimeout: this.#hooks.onTimeout }, `${action} hook did not answer in time`);
        return this.#hooks.onTimeout === 'allow' ? undefined : HOOK_REFUSALS.timeout(action);
      case 'failed':
        this.#calls.labels(action, 'failed').inc();
        this.#logger.warn({ ...fields, url: shown(url), err: outcome.error }, `${action} hook failed: refusing`);
        return HOOK_REFUSALS.failed(action);
    }
  }

  #tell(action: 'on_unpublish' | 'on_stop', url: string, request: AdmissionRequest): void {
    void postHook(url, bodyFor(action, request), this.#hooks.timeoutMs).then((outcome) => {
      if (outcome.kind === 'answered' && outcome.status >= 200 && outcome.status < 300) {
        this.#calls.labels(action, 'sent').inc();
        return;
      }
      this.#calls.labels(action, outcome.kind === 'answered' ? 'rejected' : outcome.kind).inc();
      const why = outcome.kind === 'answered' ? { status: outcome.status } : outcome.kind === 'failed' ? { err: outcome.error } : { timeoutMs: this.#hooks.timeoutMs };
      this.#logger.warn({ hook: action, id: request.id, key: request.target.key, url: shown(url), ...why }, `${action} hook notification failed`);
    });
  }
}

function bodyFor(action: HookAction, request: AdmissionRequest): HookBody {
  const { target } = request;
  return { action, app: target.app, stream: target.stream, clientId: request.id, address: request.address, transport: request.transport, query: target.query };
}
