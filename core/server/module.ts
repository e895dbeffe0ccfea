import { ContainerModule } from 'inversify';
import { LIFECYCLE } from '../pipeline/app.js';
import { CONFIG_SECTION } from '../pipeline/section.js';
import { serverConfigShape } from './config.js';
import { LIVE_SERVER, LiveServer } from './listener.js';
import { SERVER_CONFIG } from './tokens.js';

/**
 * The live listener as a singleton service, started before the pipelines (so sources and sinks have
 * registered what they serve) and stopped after they drained; it owns the `server:` section.
 */
export const serverModule = new ContainerModule(({ bind }) => {
  bind(CONFIG_SECTION).toConstantValue({ name: 'server', token: SERVER_CONFIG, shape: serverConfigShape });
  bind(LIVE_SERVER).to(LiveServer).inSingletonScope();
  bind(LIFECYCLE).toService(LIVE_SERVER);
});
