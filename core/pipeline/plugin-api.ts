/**
 * `wsflv/plugin`: everything a plugin package imports. Nothing else in the package is public; a
 * plugin that reaches into other files breaks on the next release.
 */
export type {
  Component,
  FileProblem,
  Placement,
  Role,
  SinkComponent,
  SinkInstance,
  SourceComponent,
  SourceInstance,
  StageComponent,
  StageInstance,
  StreamContext,
  StreamOrigin,
  StreamProgress,
  StreamSession,
} from './component.js';
export { defineSink, defineSource, defineStage, isDefinition } from './define.js';
export type { Definition, KindTypes, KnownKind, Resolved, ServiceTokens, SinkDefinition, SourceDefinition, StageDefinition, TypedStageInstance } from './define.js';
export { describeKind, FLV_BYTES, MEDIA_PACKETS, type DataKind } from './kinds.js';
export { componentModule } from './module.js';
export { COMPONENT } from './tokens.js';
export type { AudioCodec, Codec, MediaPacket, TrackKind, VideoCodec } from '../media/packet.js';
export { WsflvError } from '../errors.js';
export { DEFAULT_STREAM_CLOSE, isStreamError, StreamError, type StreamClose, type StreamErrorInit } from './stream-error.js';
export { compileMatch, type KeyMatcher } from './match.js';
export { LOGGER, type Logger } from '../logger.js';
export { METRICS, type Metrics } from '../metrics.js';
export { CLOCK, type Clock } from '../clock.js';
// The host's own zod and rxjs: a plugin that uses these shares one copy with wsflv (no duplicate
// instances, nothing to install), and its option schemas are the ones the loader validates with.
export { z } from 'zod';
// The host's inversify decorators, for plugins written as classes (one container, one metadata store).
export { inject, injectable, optional } from 'inversify';
export * as rxjs from 'rxjs';
