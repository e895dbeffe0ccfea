import { componentModule } from '../core/pipeline/module.js';
import { FileSource } from './file.js';
import { HttpPublishSource } from './http-publish.js';
import { LiveSource } from './live.js';
import { PublishSource } from './publish.js';
import { WsPublishSource } from './ws-publish.js';

/** Every built-in source. */
export const sourcesModule = componentModule(FileSource, WsPublishSource, HttpPublishSource, PublishSource, LiveSource);
