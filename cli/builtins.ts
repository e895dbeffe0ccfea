import type { ContainerModule } from 'inversify';
import { sinksModule } from '../sinks/index.js';
import { sourcesModule } from '../sources/index.js';
import { stagesModule } from '../stages/index.js';

/** The modules every `wsflv` command loads before plugins: built-in services and components. */
export const builtinModules: ContainerModule[] = [sourcesModule, stagesModule, sinksModule];
