import { componentModule } from '../core/pipeline/module.js';
import { FileSink } from './file.js';
import { HttpPlaySink, PlaySink, RtmpPlaySink, WsPlaySink } from './play.js';
import { PushSink } from './push.js';
import { RecordSink } from './record.js';
import { RepublishSink } from './republish.js';
import { SnapshotSink } from './snapshot.js';

/** Every built-in sink. */
export const sinksModule = componentModule(FileSink, PlaySink, WsPlaySink, HttpPlaySink, RtmpPlaySink, RecordSink, RepublishSink, PushSink, SnapshotSink);
