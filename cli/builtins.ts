import type { ContainerModule } from 'inversify';
import { accessModule } from '../core/access/module.js';
import { clusterModule } from '../core/cluster/module.js';
import { httpModule } from '../core/http/module.js';
import { liveModule } from '../core/live/module.js';
import { rtmpModule } from '../core/rtmp/module.js';
import { serverModule } from '../core/server/module.js';
import { snapshotModule } from '../core/snapshot/module.js';
import { sinksModule } from '../sinks/index.js';
import { sourcesModule } from '../sources/index.js';
import { stagesModule } from '../stages/index.js';

/** The modules every `wsflv` command loads before plugins: built-in services and components. */
export const builtinModules: ContainerModule[] = [serverModule, accessModule, rtmpModule, liveModule, clusterModule, snapshotModule, httpModule, sourcesModule, stagesModule, sinksModule];
