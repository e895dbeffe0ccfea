import type { Observable, OperatorFunction } from 'rxjs';
import type { ZodType, ZodTypeDef } from 'zod';
import type { Logger } from '../logger.js';
import type { ComponentUse, PipelineSpec } from './config.js';
import type { DataKind } from './kinds.js';

/** Where a stream came from: shown in logs and the API, and handed to hooks. */
export interface StreamOrigin {
  transport: 'file' | 'ws' | 'wss' | 'http' | 'https' | (string & {});
  address?: string;
  query?: Record<string, string>;
  /** A stream read back from the live registry: the pipelines it has already passed through, oldest first. */
  via?: readonly string[];
}

/** Progress of a finite stream, for headless runs' progress bar. */
export interface StreamProgress {
  done: number;
  total: number;
  unit: 'bytes' | 'ms';
}

/**
 * One stream flowing through a pipeline: one publisher, or one file. A live source emits many of these
 * concurrently; the runtime runs the pipeline's chain once per session.
 */
export interface StreamSession<T = unknown> {
  /** `APP/STREAM` for live streams, the file name for files. */
  key: string;
  origin: StreamOrigin;
  data$: Observable<T>;
  /** Called when the chain fails, so the source can close its peer with the reason (e.g. close code 1007). */
  abort?(error: Error): void;
  progress?(): StreamProgress | undefined;
  /**
   * A source that can wait (a file) stops and resumes reading when a sink asks (`ctx.hold`); a live
   * source cannot make its publisher wait and leaves these out, so its sinks bound themselves.
   */
  pause?(): void;
  resume?(): void;
}

/**
 * Per-stream context handed to every stage and sink. `shared` lets components of one stream's chain
 * hand each other state (the GOP cache hands the live channel what a late joiner needs) without
 * knowing about each other's classes: the key is a symbol exported by the providing module.
 */
export interface StreamContext {
  pipeline: string;
  key: string;
  origin: StreamOrigin;
  logger: Logger;
  shared: Map<symbol, unknown>;
  /**
   * Aborted, with the error as its reason, when the stream fails (before the chain is torn down), so
   * a sink can tell its own peers why: the live feed closes players at once on a StreamError.
   */
  signal: AbortSignal;
  /**
   * Ask the source to wait until `until` settles (a file sink whose disk is behind): a file source
   * pauses reading, a live one cannot. Holds from several sinks add up; reading resumes when all settle.
   * Returns whether the source waits: one that cannot leaves the component to bound itself.
   */
  hold(until: Promise<unknown>): boolean;
}

export interface SourceInstance {
  /** Emits one session per stream. Completes when the source has nothing more to offer (a file source). */
  sessions$: Observable<StreamSession>;
  /** Stop accepting new streams and end the current ones gracefully (first step of a drain). */
  stop?(): void | Promise<void>;
}

/** A stage is written for one stream: the runtime calls it once per session. */
export type StageInstance = (ctx: StreamContext) => OperatorFunction<any, any>;

/**
 * A sink consumes one stream. The returned Observable completes once everything is written and
 * closed (files finalised): the runtime's drain waits for it.
 */
export interface SinkInstance {
  consume(ctx: StreamContext, data$: Observable<any>): Observable<unknown>;
  /** Called once when the pipeline stops, after every stream has ended. */
  close?(): void | Promise<void>;
}

export type Role = 'source' | 'stage' | 'sink';

interface ComponentBase<Options> {
  /** The name used in pipeline.yaml. Sources and sinks are nouns; stages say what they do. */
  readonly type: string;
  readonly description: string;
  /** Validates and documents the YAML options (unknown options are rejected). */
  readonly options: ZodType<Options, ZodTypeDef, unknown>;
  /**
   * Checks this component makes of the whole file once every component resolved, beyond its own
   * options: two play sinks feeding one live key, a pipeline reading its own output. Each problem is
   * reported with the others, located at `path` (default: this use).
   */
  check?(use: ComponentUse<Component>, pipeline: PipelineSpec, pipelines: readonly PipelineSpec[]): FileProblem[];
}

/** Where a use sits in its file: its `id`, and for a sink the `match:` globs the runtime routes by. */
export interface Placement {
  id: string;
  match?: readonly string[];
}

/** A problem a component's whole-file check found. */
export interface FileProblem {
  message: string;
  path?: (string | number)[];
}

export interface SourceComponent<Options = any> extends ComponentBase<Options> {
  readonly role: 'source';
  readonly produces: DataKind;
  create(options: Options, pipeline: string): SourceInstance;
}

export interface StageComponent<Options = any> extends ComponentBase<Options> {
  readonly role: 'stage';
  readonly consumes: DataKind;
  readonly produces: DataKind;
  create(options: Options, pipeline: string): StageInstance;
}

export interface SinkComponent<Options = any> extends ComponentBase<Options> {
  readonly role: 'sink';
  readonly consumes: DataKind;
  /** `placement` says where the file put this use: a sink that accepts peers itself filters them by its `match`. */
  create(options: Options, pipeline: string, placement?: Placement): SinkInstance;
}

/**
 * Every built-in and plugin component is a class bound to this multi-injection token, so it can take
 * services (logger, metrics, the live stream registry, the server) through `@inject` like anything else.
 */
export type Component = SourceComponent | StageComponent | SinkComponent;
