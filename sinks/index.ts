import { componentModule } from '../core/pipeline/module.js';
import { FileSink } from './file.js';
import { HttpPlaySink } from './http-play.js';
import { RecordSink } from './record.js';
import { WsPlaySink } from './ws-play.js';

/** Every built-in sink. */
export const sinksModule = componentModule(FileSink, WsPlaySink, HttpPlaySink, RecordSink);
