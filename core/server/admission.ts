import type { IncomingHttpHeaders } from 'node:http';
import type { ServiceIdentifier } from 'inversify';
import type { LiveTransport } from '../live/types.js';
import type { Logger } from '../logger.js';
import type { StreamTarget } from './routes.js';

/**
 * The listener's one hook point for access control: before a publisher or player is handed to the
 * pipeline (before a WebSocket handshake is even answered), every gate bound to ADMISSION_GATE is asked,
 * in binding order. A gate may answer at once or take its time (an HTTP hook); the first refusal wins,
 * and nothing of the connection reaches a source or sink before every gate said yes.
 */

export type Direction = 'publish' | 'play';

/** A connection asking to be let in, as the gates see it. */
export interface AdmissionRequest {
  direction: Direction;
  /** The request's HTTP method: GET for a WebSocket handshake; HEAD for a probe that opens nothing. */
  method: string;
  framing: 'ws' | 'http' | 'rtmp';
  transport: LiveTransport;
  target: StreamTarget;
  /** The id the connection gets if it is let in (ConnectionInfo.id). */
  id: string;
  /** `ip:port` of the peer, as ConnectionInfo.address. */
  address: string;
  /** The peer's IP address alone (an IPv4-mapped IPv6 address as plain IPv4). */
  ip: string;
  headers: IncomingHttpHeaders;
}

/** A refusal: the HTTP status for HTTP peers, the close code for WebSocket peers, and why. */
export interface Refusal {
  status: number;
  code: number;
  /** Sent to the peer and counted as a metric label: keep it short and free of request data. */
  reason: string;
}

/**
 * What a gate answers. `refuse` keeps the connection out. Otherwise the gate may hold something for
 * the connection (a limit slot, an unpublish notice to send) and give it back in `release`, which the
 * listener calls exactly once: `opened` true when the connection was handed over and has now ended,
 * false when it never opened (a later gate refused it, the peer left while gates decided, a HEAD).
 */
export type GateVerdict = { refuse: Refusal } | { release?(opened: boolean): void } | undefined | void;

export interface AdmissionGate {
  readonly name: string;
  admit(request: AdmissionRequest): GateVerdict | Promise<GateVerdict>;
}

/** Multi-injection token: every gate the listener asks, in binding order. */
export const ADMISSION_GATE: ServiceIdentifier<AdmissionGate> = Symbol.for('wsflv.admission-gate');

/** The gates' joint answer. `release` is safe to call more than once; only the first call counts. */
export interface Admission {
  refusal?: Refusal;
  release(opened: boolean): void;
}

const INTERNAL: Refusal = { status: 500, code: 1011, reason: 'internal error' };

/** Let in with nothing to give back: the common case, shared so an open connection holds nothing for it. */
const ADMITTED: Admission = Object.freeze({ release() {} });

/**
 * Ask `gates` in order. Synchronous while every gate answers synchronously (no gap between the checks
 * and the handover), a Promise as soon as one gate is asynchronous. Never rejects: a gate that throws
 * refuses the connection with 500 / 1011 (fail closed) and is logged.
 */
export function admit(gates: readonly AdmissionGate[], request: AdmissionRequest, logger: Logger): Admission | Promise<Admission> {
  const held: HeldSlot[] = [];
  const refused = (refusal: Refusal): Admission => {
    releaseAll(held, false, logger);
    return { refusal, release() {} };
  };
  const failed = (gate: AdmissionGate, error: unknown): Admission => {
    logger.error({ err: error, gate: gate.name, id: request.id }, 'admission gate failed: refusing the connection');
    return refused(INTERNAL);
  };
  const take = (verdict: GateVerdict): Refusal | undefined => {
    if (!verdict) return undefined;
    if ('refuse' in verdict) return verdict.refuse;
    if (verdict.release) held.push(verdict as HeldSlot);
    return undefined;
  };
  const from = (index: number): Admission | Promise<Admission> => {
    for (let i = index; i < gates.length; i++) {
      const gate = gates[i]!;
      let verdict: GateVerdict | Promise<GateVerdict>;
      try {
        verdict = gate.admit(request);
      } catch (error) {
        return failed(gate, error);
      }
      if (verdict instanceof Promise) {
        return verdict.then(
          (v) => {
            const refusal = take(v);
            return refusal ? refused(refusal) : from(i + 1);
          },
          (error) => failed(gate, error),
        );
      }
      const refusal = take(verdict);
      if (refusal) return refused(refusal);
    }
    return held.length === 0 ? ADMITTED : holding(held, logger);
  };
  return from(0);
}

type HeldSlot = { release(opened: boolean): void };

/**
 * The admission of a connection some gate holds something for. Built apart from admit() on purpose: a
 * closure there would keep the whole request (headers included) alive for as long as the connection.
 */
function holding(held: HeldSlot[], logger: Logger): Admission {
  return { release: (opened: boolean) => releaseAll(held, opened, logger) };
}

/** Give back what the gates hold, last taken first, once (it empties `held`); a failing release is logged and the rest still run. */
function releaseAll(held: HeldSlot[], opened: boolean, logger: Logger): void {
  for (let i = held.length - 1; i >= 0; i--) {
    try {
      held[i]!.release(opened);
    } catch (error) {
      logger.error({ err: error }, 'admission gate release failed');
    }
  }
  held.length = 0;
}

/** `then` for a value that may or may not be a Promise: synchronous when it is not. */
export function whenAdmitted(admission: Admission | Promise<Admission>, next: (admission: Admission) => void, onError: (error: unknown) => void): void {
  const run = (a: Admission) => {
    try {
      next(a);
    } catch (error) {
      a.release(false);
      onError(error);
    }
  };
  if (admission instanceof Promise) admission.then(run, onError);
  else run(admission);
}

/** The IP part of a socket's remote address; `::ffff:1.2.3.4` (IPv4 on a dual-stack socket) as `1.2.3.4`. */
export function peerIp(remoteAddress: string | undefined): string {
  const ip = remoteAddress ?? 'unknown';
  return ip.toLowerCase().startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
