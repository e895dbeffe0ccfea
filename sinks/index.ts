import { componentModule } from '../core/pipeline/module.js';
import { FileSink } from './file.js';

/** Every built-in sink. */
export const sinksModule = componentModule(FileSink);
