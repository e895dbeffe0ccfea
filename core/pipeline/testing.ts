import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Container } from 'inversify';
import { catchError, EMPTY, from, lastValueFrom, toArray, type Observable } from 'rxjs';
import { CLOCK, systemClock } from '../clock.js';
import { FlvDemuxer } from '../flv/demuxer.js';
import { createLogger, LOGGER } from '../logger.js';
import type { MediaPacket } from '../media/packet.js';
import { Metrics, METRICS } from '../metrics.js';
import type { StageComponent, StreamContext } from './component.js';
import type { Definition, KindTypes, KnownKind, StageDefinition } from './define.js';
import { componentModule } from './module.js';
import { COMPONENT } from './tokens.js';

export interface StageRunOptions<In> {
  /** What the stage is fed: items of its `consumes` kind, or an FLV file demuxed into media packets. */
  input: readonly In[] | { flvFile: string };
  /** The stage's YAML options, validated by its schema as the loader would. */
  options?: unknown;
  key?: string;
  pipeline?: string;
  /** Log level of the captured logger (default `debug`). */
  level?: string;
}

export interface StageRun<Out> {
  /** Everything the stage emitted, in order (up to the error, if any). */
  emitted: Out[];
  /** Log lines the stage wrote through `ctx.logger` (or the injected LOGGER), parsed. */
  logs: Array<{ level: number; msg?: string; [field: string]: unknown }>;
  /** The error the stage's stream ended with, or undefined when it completed. */
  error?: Error;
  /** The metrics the stage reported, in the Prometheus text format. */
  metrics: string;
}

/**
 * Runs one stage over given items or an FLV file, without a server: the stage is resolved through a
 * container with the usual services (a captured logger, fresh metrics, the system clock).
 */
export async function runStage<In extends KnownKind, Out extends KnownKind>(
  stage: StageDefinition<In, Out, any, any> & Definition<StageComponent>,
  run: StageRunOptions<KindTypes[In]>,
): Promise<StageRun<KindTypes[Out]>>;
export async function runStage(stage: Definition<StageComponent> | (new (...args: never[]) => StageComponent), run: StageRunOptions<unknown>): Promise<StageRun<unknown>>;
export async function runStage(stage: Definition<StageComponent> | (new (...args: never[]) => StageComponent), run: StageRunOptions<unknown>): Promise<StageRun<unknown>> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: run.level ?? 'debug', destination: sink });
  const metrics = new Metrics();
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind(LOGGER).toConstantValue(logger);
  container.bind(METRICS).toConstantValue(metrics);
  container.bind(CLOCK).toConstantValue(systemClock);
  container.load(componentModule(stage as never));
  const component = container.getAll(COMPONENT)[0] as StageComponent;
  const options = component.options.parse(run.options ?? {});
  const pipeline = run.pipeline ?? 'test';
  const key = run.key ?? 'test/stream';
  const ctx: StreamContext = { pipeline, key, origin: { transport: 'file' }, logger: logger.child({ pipeline, stream: key }), shared: new Map(), signal: new AbortController().signal, hold: () => false };
  const input: Observable<unknown> = from(Array.isArray(run.input) ? run.input : demux((run.input as { flvFile: string }).flvFile));
  const emitted: unknown[] = [];
  let error: Error | undefined;
  await lastValueFrom(
    input.pipe(
      component.create(options, pipeline)(ctx),
      catchError((caught: unknown) => {
        error = caught instanceof Error ? caught : new Error(String(caught));
        return EMPTY;
      }),
      toArray(),
    ),
  ).then((items) => emitted.push(...items));
  return { emitted, logs: lines.map((line) => JSON.parse(line)), error, metrics: await metrics.registry.metrics() };
}

function demux(path: string): MediaPacket[] {
  const demuxer = new FlvDemuxer();
  const packets = demuxer.push(readFileSync(path));
  demuxer.end();
  return packets;
}
