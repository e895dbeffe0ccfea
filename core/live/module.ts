import { ContainerModule } from 'inversify';
import { LIFECYCLE } from '../pipeline/app.js';
import { LIVE_REGISTRY, LiveRegistry } from './registry.js';

/** The live registry as a singleton service, also started and stopped with the app (its sweep timer). */
export const liveModule = new ContainerModule(({ bind }) => {
  bind(LIVE_REGISTRY).to(LiveRegistry).inSingletonScope();
  bind(LIFECYCLE).toService(LIVE_REGISTRY);
});
