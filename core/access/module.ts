import { ContainerModule } from 'inversify';
import { CONFIG_SECTION } from '../pipeline/section.js';
import { ADMISSION_GATE } from '../server/admission.js';
import { SERVER_CONFIG } from '../server/tokens.js';
import { SignedUrlGate } from './auth-gate.js';
import { accessConfigShape } from './config.js';
import { HooksGate } from './hooks.js';
import { LimitsGate } from './limits-gate.js';

/**
 * Access control: the gates, in the order the listeners ask them: signature (cheap, no state),
 * limits (takes a slot), hooks (slow: asked last, so a refused peer never costs a hook call). Each
 * is a no-op unless the `server:` section turns it on (`auth`, `limits.*PerIp` / `limits.players`,
 * `hooks`); `auth` and `hooks` are this module's fields of that section, so a file that uses them
 * without this module loaded is refused rather than left unchecked.
 */
export const accessModule = new ContainerModule(({ bind }) => {
  bind(CONFIG_SECTION).toConstantValue({ name: 'server', token: SERVER_CONFIG, shape: accessConfigShape });
  bind(SignedUrlGate).toSelf().inSingletonScope();
  bind(ADMISSION_GATE).toService(SignedUrlGate);
  bind(LimitsGate).toSelf().inSingletonScope();
  bind(ADMISSION_GATE).toService(LimitsGate);
  bind(HooksGate).toSelf().inSingletonScope();
  bind(ADMISSION_GATE).toService(HooksGate);
});
