import { ContainerModule } from 'inversify';
import { bindAccessGates } from '../access/module.js';
import { LIFECYCLE } from '../pipeline/app.js';
import { LIVE_SERVER, LiveServer } from './listener.js';

/**
 * The live listener as a singleton service, started before the pipelines (so sources and sinks have
 * registered what they serve) and stopped after they drained.
 */
export const serverModule = new ContainerModule(({ bind }) => {
  bind(LIVE_SERVER).to(LiveServer).inSingletonScope();
  bind(LIFECYCLE).toService(LIVE_SERVER);
  // Access control comes with the listener, so no way of loading it leaves configured checks out.
  bindAccessGates(bind);
});
