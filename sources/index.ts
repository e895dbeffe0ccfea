import { componentModule } from '../core/pipeline/module.js';
import { FileSource } from './file.js';
import { LiveSource } from './live.js';
import { ExecSource } from './exec.js';
import { PullSource } from './pull.js';
import { HttpPublishSource, PublishSource, RtmpPublishSource, WsPublishSource } from './publish.js';

/** Every built-in source. */
export const sourcesModule = componentModule(FileSource, WsPublishSource, HttpPublishSource, RtmpPublishSource, PublishSource, LiveSource, PullSource, ExecSource);
