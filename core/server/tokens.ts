import type { ServiceIdentifier } from 'inversify';
import type { ServerConfig } from './config.js';

/** The validated `server:` section of the pipeline file. */
export const SERVER_CONFIG: ServiceIdentifier<ServerConfig> = Symbol.for('wsflv.server-config');
