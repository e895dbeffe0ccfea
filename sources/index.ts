import { componentModule } from '../core/pipeline/module.js';
import { FileSource } from './file.js';

/** Every built-in source. */
export const sourcesModule = componentModule(FileSource);
