import { inject, injectable } from 'inversify';
import { CLOSE } from '../live/close.js';
import type { AdmissionGate, AdmissionRequest, Direction, GateVerdict, Refusal } from '../server/admission.js';
import type { ServerConfig } from '../server/config.js';
import { SERVER_CONFIG } from '../server/tokens.js';

export const LIMIT_REFUSALS = {
  publishersPerIp: { status: 429, code: CLOSE.tryAgainLater, reason: 'too many publishers from this address' },
  playersPerIp: { status: 429, code: CLOSE.tryAgainLater, reason: 'too many players from this address' },
  players: { status: 503, code: CLOSE.tryAgainLater, reason: 'too many players' },
} as const satisfies Record<string, Refusal>;

/**
 * `server.limits.publishersPerIp`, `playersPerIp` and `players`. A connection holds its slot from the
 * moment it is admitted, while later gates (hooks) still decide, until it ends: two peers racing for
 * the last slot cannot both get it. (`limits.connections` and `limits.streams`, the total of
 * publishers, are the listener's own.)
 */
@injectable()
export class LimitsGate implements AdmissionGate {
  readonly name = 'limits';
  readonly #perIp: Record<Direction, number | undefined>;
  readonly #players: number | undefined;
  readonly #byIp: Record<Direction, Map<string, number>> = { publish: new Map(), play: new Map() };
  #playersNow = 0;

  constructor(@inject(SERVER_CONFIG) config: ServerConfig) {
    const { limits } = config;
    this.#perIp = { publish: limits.publishersPerIp, play: limits.playersPerIp };
    this.#players = limits.players;
  }

  /** Slots held now from `ip` (admitted or being admitted), for tests and the API. */
  held(direction: Direction, ip: string): number {
    return this.#byIp[direction].get(ip) ?? 0;
  }

  admit(request: AdmissionRequest): GateVerdict {
    const { direction, ip } = request;
    const perIp = this.#perIp[direction];
    const total = direction === 'play' ? this.#players : undefined;
    if (perIp === undefined && total === undefined) return undefined;
    if (total !== undefined && this.#playersNow >= total) return { refuse: LIMIT_REFUSALS.players };
    const counts = this.#byIp[direction];
    const held = counts.get(ip) ?? 0;
    if (perIp !== undefined && held >= perIp) return { refuse: direction === 'publish' ? LIMIT_REFUSALS.publishersPerIp : LIMIT_REFUSALS.playersPerIp };
    counts.set(ip, held + 1);
    if (direction === 'play') this.#playersNow++;
    return {
      release: () => {
        const left = (counts.get(ip) ?? 1) - 1;
        if (left > 0) counts.set(ip, left);
        else counts.delete(ip);
        if (direction === 'play') this.#playersNow--;
      },
    };
  }
}
