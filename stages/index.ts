import { componentModule } from '../core/pipeline/module.js';
import { FilterStage } from './filter.js';
import { FlvDemuxStage } from './flv-demux.js';
import { GopCacheStage } from './gop-cache.js';
import { TimestampsStage } from './timestamps.js';
import { TranscodeStage } from './transcode.js';

/** Every built-in stage. */
export const stagesModule = componentModule(FlvDemuxStage, TimestampsStage, FilterStage, GopCacheStage, TranscodeStage);
