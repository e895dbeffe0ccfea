import { ContainerModule } from 'inversify';
import { LIFECYCLE } from '../pipeline/app.js';
import { HttpApi } from './api.js';
import { MetricsEndpoint } from './metrics.js';
import { WebPage } from './web.js';

/**
 * The listener's own HTTP features, each turned on or off in the `server:` section of pipeline.yaml
 * (`web`, `api`, `metrics`; all off unless the file says so). Each is a lifecycle service that mounts
 * its routes on the one listener through LiveServer.route(); one that is off mounts nothing and never
 * makes the listener listen. Load it after serverModule and liveModule.
 */
export const httpModule = new ContainerModule(({ bind }) => {
  bind(HttpApi).toSelf().inSingletonScope();
  bind(LIFECYCLE).toService(HttpApi);
  bind(MetricsEndpoint).toSelf().inSingletonScope();
  bind(LIFECYCLE).toService(MetricsEndpoint);
  bind(WebPage).toSelf().inSingletonScope();
  bind(LIFECYCLE).toService(WebPage);
});
