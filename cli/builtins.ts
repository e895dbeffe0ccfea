import type { ContainerModule } from 'inversify';
import { liveModule } from '../core/live/module.js';
import { serverModule } from '../core/server/module.js';
import { sinksModule } from '../sinks/index.js';
import { sourcesModule } from '../sources/index.js';
import { stagesModule } from '../stages/index.js';

/** The modules every `wsflv` command loads before plugins: built-in services and components. */
export const builtinModules: ContainerModule[] = [serverModule, liveModule, sourcesModule, stagesModule, sinksModule];
