import type { ServiceIdentifier } from 'inversify';
import type { Observable, OperatorFunction } from 'rxjs';
import type { ZodType, ZodTypeDef } from 'zod';
import type { MediaPacket } from '../media/packet.js';
import type { SinkComponent, SourceComponent, SourceInstance, StageComponent, StreamContext } from './component.js';

/**
 * What each data kind carries, as a TypeScript type. A plugin that introduces a kind adds it by
 * declaration merging, so its stages are typed like the built-in ones:
 *
 *     declare module 'wsflv/plugin' { interface KindTypes { 'mpegts-bytes': Buffer } }
 */
export interface KindTypes {
  'flv-bytes': Buffer;
  'media-packets': MediaPacket;
}

/** A data kind the type map knows. */
export type KnownKind = keyof KindTypes & string;

/** Services a definition asks for, by token; they arrive resolved as `create`'s third argument. */
export type ServiceTokens = Record<string, ServiceIdentifier<unknown>>;
export type Resolved<S extends ServiceTokens> = { [K in keyof S]: S[K] extends ServiceIdentifier<infer T> ? T : never };

interface DefinitionBase<Options, S extends ServiceTokens> {
  type: string;
  description: string;
  options: ZodType<Options, ZodTypeDef, unknown>;
  inject?: S;
}

/** A stage's per-stream operator, typed by the kinds it is declared with. */
export type TypedStageInstance<In extends KnownKind, Out extends KnownKind> = (ctx: StreamContext) => OperatorFunction<KindTypes[In], KindTypes[Out]>;

export interface StageDefinition<In extends KnownKind, Out extends KnownKind, Options, S extends ServiceTokens> extends DefinitionBase<Options, S> {
  consumes: In;
  produces: Out;
  create(options: Options, pipeline: string, services: Resolved<S>): TypedStageInstance<In, Out>;
}

export interface SinkDefinition<In extends KnownKind, Options, S extends ServiceTokens> extends DefinitionBase<Options, S> {
  consumes: In;
  create(options: Options, pipeline: string, services: Resolved<S>): {
    consume(ctx: StreamContext, data$: Observable<KindTypes[In]>): Observable<unknown>;
    close?(): void | Promise<void>;
  };
}

export interface SourceDefinition<Out extends KnownKind, Options, S extends ServiceTokens> extends DefinitionBase<Options, S> {
  produces: Out;
  create(options: Options, pipeline: string, services: Resolved<S>): SourceInstance;
}

/** What `define*` returns: a component (once its services are resolved) that `componentModule` binds. */
export interface Definition<C> {
  readonly [DEFINITION]: true;
  readonly inject: ServiceTokens;
  /** Builds the component from its resolved services. */
  build(services: Record<string, unknown>): C;
}

export const DEFINITION = Symbol.for('wsflv.definition');

export function isDefinition(value: unknown): value is Definition<unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DEFINITION] === true;
}

/**
 * A stage without classes or decorators. `consumes`/`produces` tie the operator's types to the kinds:
 * a stage declared `'media-packets' → 'flv-bytes'` whose operator emits MediaPacket does not compile.
 */
export function defineStage<In extends KnownKind, Out extends KnownKind, Options, S extends ServiceTokens = {}>(
  definition: StageDefinition<In, Out, Options, S>,
): Definition<StageComponent<Options>> & StageDefinition<In, Out, Options, S> {
  return wrap(definition, (services) => ({
    role: 'stage',
    type: definition.type,
    description: definition.description,
    options: definition.options,
    consumes: definition.consumes,
    produces: definition.produces,
    create: (options: Options, pipeline: string) => definition.create(options, pipeline, services as Resolved<S>),
  }));
}

/** A sink without classes or decorators; `consume` receives the type its `consumes` kind carries. */
export function defineSink<In extends KnownKind, Options, S extends ServiceTokens = {}>(
  definition: SinkDefinition<In, Options, S>,
): Definition<SinkComponent<Options>> & SinkDefinition<In, Options, S> {
  return wrap(definition, (services) => ({
    role: 'sink',
    type: definition.type,
    description: definition.description,
    options: definition.options,
    consumes: definition.consumes,
    create: (options: Options, pipeline: string) => definition.create(options, pipeline, services as Resolved<S>),
  }));
}

/** A source without classes or decorators. */
export function defineSource<Out extends KnownKind, Options, S extends ServiceTokens = {}>(
  definition: SourceDefinition<Out, Options, S>,
): Definition<SourceComponent<Options>> & SourceDefinition<Out, Options, S> {
  return wrap(definition, (services) => ({
    role: 'source',
    type: definition.type,
    description: definition.description,
    options: definition.options,
    produces: definition.produces,
    create: (options: Options, pipeline: string) => definition.create(options, pipeline, services as Resolved<S>),
  }));
}

function wrap<D extends { inject?: ServiceTokens }, C>(definition: D, build: (services: Record<string, unknown>) => C): Definition<C> & D {
  return { ...definition, [DEFINITION]: true as const, inject: definition.inject ?? {}, build };
}
