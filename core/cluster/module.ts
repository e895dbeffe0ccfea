import { ContainerModule } from 'inversify';
import { LIFECYCLE } from '../pipeline/app.js';
import { CONFIG_SECTION } from '../pipeline/section.js';
import { SERVER_CONFIG } from '../server/tokens.js';
import { CLUSTER_SETTINGS, clusterConfigShape, clusterSettings, type ClusterSectionConfig } from './config.js';
import { ClusterService } from './service.js';

/** Token of the running cluster service (absent from containers without this module). */
export const CLUSTER = Symbol.for('wsflv.cluster');

/**
 * Scale-out over NATS: `server.cluster` (and `server.workers`, which the `wsflv run` supervisor reads)
 * are this module's fields of the `server:` section. With neither set, the service does nothing.
 * Load it after liveModule.
 */
export const clusterModule = new ContainerModule(({ bind }) => {
  bind(CONFIG_SECTION).toConstantValue({ name: 'server', token: SERVER_CONFIG, shape: clusterConfigShape });
  bind(CLUSTER_SETTINGS).toDynamicValue((context) => clusterSettings(context.get(SERVER_CONFIG) as unknown as ClusterSectionConfig)).inSingletonScope();
  bind(ClusterService).toSelf().inSingletonScope();
  bind(CLUSTER).toService(ClusterService);
  bind(LIFECYCLE).toService(ClusterService);
});
