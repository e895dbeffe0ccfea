import type { Bind } from 'inversify';
import { ADMISSION_GATE } from '../server/admission.js';
import { SignedUrlGate } from './auth-gate.js';
import { HooksGate } from './hooks.js';
import { LimitsGate } from './limits-gate.js';

/**
 * Bind the access-control gates, in the order the listener asks them: signature (cheap, no state),
 * limits (takes a slot), hooks (slow: asked last, so a refused peer never costs a hook call). Called by
 * serverModule, so a listener is never loaded without them; each gate is a no-op unless the `server:`
 * section turns it on (`auth`, `limits.*PerIp` / `limits.players`, `hooks`).
 */
export function bindAccessGates(bind: Bind): void {
  bind(SignedUrlGate).toSelf().inSingletonScope();
  bind(ADMISSION_GATE).toService(SignedUrlGate);
  bind(LimitsGate).toSelf().inSingletonScope();
  bind(ADMISSION_GATE).toService(LimitsGate);
  bind(HooksGate).toSelf().inSingletonScope();
  bind(ADMISSION_GATE).toService(HooksGate);
}
