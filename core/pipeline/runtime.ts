import { connectable, EMPTY, merge, Observable, Subject, Subscription, throwError, type OperatorFunction } from 'rxjs';
import { catchError, finalize, ignoreElements, mergeMap, tap } from 'rxjs/operators';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { SinkInstance, SourceInstance, StageInstance, StreamContext, StreamSession } from './component.js';
import type { ComponentUse, PipelineSpec } from './config.js';
import { compileMatch, type KeyMatcher } from './match.js';
import { StreamError } from './stream-error.js';

/** A stream currently flowing through a pipeline (for progress bars and the API). */
export interface ActiveStream {
  pipeline: string;
  session: StreamSession;
  startedAt: number;
}

interface BuiltStage {
  type: string;
  id: string;
  instance: StageInstance;
}

interface BuiltSink {
  type: string;
  id: string;
  instance: SinkInstance;
  stages: BuiltStage[];
  matches: KeyMatcher;
}

interface BuiltPipeline {
  spec: PipelineSpec;
  source: SourceInstance;
  stages: BuiltStage[];
  sinks: BuiltSink[];
}

/**
 * Runs resolved pipelines: each source's sessions are run through the pipeline's chain, one chain per
 * stream, so a stage never sees two streams and an error ends only the stream it happened in.
 */
export class PipelineRuntime {
  readonly active = new Set<ActiveStream>();
  readonly #pipelines: BuiltPipeline[];
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  /** Items passed on per pipeline component, not yet added to wsflv_pipeline_items_total. */
  readonly #tallies = new Map<string, { items: number; child: { inc(value: number): void } }>();
  readonly #subscription = new Subscription();
  readonly #done: Promise<void>;
  #resolveDone!: () => void;
  #running = 0;
  #started = false;
  #failedStreams = 0;
  #endedStreams = 0;
  #failedSources = 0;
  #unitsDone = 0;
  readonly #sinkFailures;

  constructor(pipelines: PipelineSpec[], services: { logger: Logger; metrics: Metrics }) {
    this.#logger = services.logger;
    this.#metrics = services.metrics;
    services.metrics.beforeScrape(() => {
      for (const tally of this.#tallies.values()) {
        if (tally.items > 0) tally.child.inc(tally.items);
        tally.items = 0;
      }
    });
    this.#sinkFailures = services.metrics.counter('wsflv_pipeline_sink_failures_total', 'Sinks that failed on one stream while the stream went on (or ended with the last one)', ['pipeline', 'component', 'id']);
    this.#pipelines = pipelines.map((spec) => ({
      spec,
      source: spec.source.component.create(spec.source.options, spec.name),
      stages: spec.stages.map((use) => buildStage(use, spec.name)),
      sinks: spec.sinks.map((use) => ({
        type: use.component.type,
        id: use.id,
        instance: use.component.create(use.options, spec.name, { id: use.id, ...(use.match ? { match: use.match } : {}) }),
        stages: use.stages.map((stage) => buildStage(stage, spec.name)),
        matches: compileMatch(use.match),
      })),
    }));
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /** Resolves when every source has completed and every stream has ended (headless runs). */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Streams ended so far, how many failed, sources that failed, and the progress units (bytes) covered. */
  get summary(): { ended: number; failed: number; failedSources: number; units: number } {
    return { ended: this.#endedStreams, failed: this.#failedStreams, failedSources: this.#failedSources, units: this.#unitsDone };
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#running = this.#pipelines.length;
    if (this.#running === 0) this.#resolveDone();
    for (const pipeline of this.#pipelines) {
      const run = pipeline.source.sessions$.pipe(
        mergeMap((session) => this.#runSession(pipeline, session)),
        finalize(() => {
          if (--this.#running === 0) this.#resolveDone();
        }),
      );
      this.#subscription.add(
        run.subscribe({
          error: (error: Error) => {
            this.#failedSources++;
            this.#logger.error({ pipeline: pipeline.spec.name, err: error }, `source failed: ${error.message}`);
          },
        }),
      );
    }
  }

  /**
   * Drain: sources stop first (live publishers are told the server is going away), streams end and
   * sinks flush; past `deadlineMs` everything still running is cut. Returns true on a clean drain.
   */
  async stop(deadlineMs = 5000): Promise<boolean> {
    await Promise.allSettled(this.#pipelines.map((p) => p.source.stop?.()));
    let timer: NodeJS.Timeout | undefined;
    const clean = await Promise.race([
      this.#done.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs))),
    ]);
    clearTimeout(timer);
    this.#subscription.unsubscribe();
    await Promise.allSettled(this.#pipelines.flatMap((p) => p.sinks.map((s) => s.instance.close?.())));
    return clean;
  }

  /**
   * One stream through its pipeline. The trunk (source, shared stages) is multicast to every sink
   * whose `match` takes the key; each sink runs its own branch stages. Failures:
   * - a StreamError, raised anywhere, ends the stream on purpose: the source closes the peer with
   *   its close, and `ctx.signal` is aborted with it first so sinks (the live feed) tell their side;
   * - any other error on the trunk ends the stream (the peer is told "internal error" or the
   *   parser's reason);
   * - any other error in a sink or its branch ends that sink only: logged with its reason and
   *   counted in wsflv_pipeline_sink_failures_total; the publisher and the other sinks go on, and
   *   only when every sink has failed does the stream end with the last failure.
   */
  #runSession(pipeline: BuiltPipeline, session: StreamSession): Observable<never> {
    const name = pipeline.spec.name;
    const logger = this.#logger.child({ pipeline: name, stream: session.key });
    const controller = new AbortController();
    let holds = 0;
    const hold = (until: Promise<unknown>): boolean => {
      if (!session.pause) return false;
      if (holds++ === 0) session.pause();
      const release = () => {
        if (--holds === 0) session.resume?.();
      };
      until.then(release, release);
      return true;
    };
    const ctx: StreamContext = { pipeline: name, key: session.key, origin: session.origin, logger, shared: new Map(), signal: controller.signal, hold };
    const entry: ActiveStream = { pipeline: name, session, startedAt: Date.now() };
    const count = this.#itemCounter(name);
    let trunkError: unknown;
    const trunk = connectable(
      applyStages(session.data$, pipeline.stages, ctx, count).pipe(tap({ error: (error: unknown) => (trunkError = error) })),
      { connector: () => new Subject(), resetOnDisconnect: false },
    );
    const sinks = pipeline.sinks.filter((sink) => sink.matches(session.key));
    let failedSinks = 0;
    const branches = sinks.map((sink) => {
      const data$ = applyStages(trunk, sink.stages, ctx, count);
      return sink.instance.consume(withComponent(ctx, sink), data$.pipe(count(sink))).pipe(
        catchError((error: Error) => {
          if (error === trunkError || error instanceof StreamError) return throwError(() => error);
          failedSinks++;
          this.#sinkFailures.labels(name, sink.type, sink.id).inc();
          logger.error({ component: sink.type, id: sink.id, err: error, code: (error as { code?: string }).code }, `sink ${sink.id} (${sink.type}) failed, the stream goes on without it: ${error.message}`);
          if (failedSinks === sinks.length) return throwError(() => error);
          return EMPTY;
        }),
      );
    });
    return new Observable<never>((subscriber) => {
      this.active.add(entry);
      logger.info({ transport: session.origin.transport, address: session.origin.address }, 'stream started');
      if (sinks.length === 0) logger.warn('no sink takes this stream (every sink has a `match` that leaves it out)');
      const subscription = merge(...branches)
        .pipe(ignoreElements(), tap({ error: (error: unknown) => controller.abort(error) }))
        .subscribe(subscriber);
      const connection = trunk.connect();
      return () => {
        connection.unsubscribe();
        subscription.unsubscribe();
        this.active.delete(entry);
        this.#endedStreams++;
        this.#unitsDone += session.progress?.()?.done ?? 0;
      };
    }).pipe(
      tap({ complete: () => logger.info('stream ended') }),
      catchError((error: Error) => {
        this.#failedStreams++;
        logger.warn({ err: error, code: (error as { code?: string }).code }, `stream failed: ${error.message}`);
        session.abort?.(error);
        return EMPTY;
      }),
    );
  }

  #itemCounter(pipeline: string) {
    const counter = this.#metrics.counter('wsflv_pipeline_items_total', 'Items passed on by each pipeline component', ['pipeline', 'component', 'id']);
    return (component: { type: string; id: string }): OperatorFunction<unknown, unknown> => {
      // Counted in a plain number and handed to the counter when scraped: a labelled increment
      // hashes its labels, and this runs for every item of every stream.
      const key = `${pipeline}\u0000${component.id}`;
      let tally = this.#tallies.get(key);
      if (!tally) {
        tally = { items: 0, child: counter.labels(pipeline, component.type, component.id) };
        this.#tallies.set(key, tally);
      }
      const counted = tally;
      return tap(() => {
        counted.items++;
      });
    };
  }
}

function buildStage(use: ComponentUse<any>, pipeline: string): BuiltStage {
  return { type: use.component.type, id: use.id, instance: use.component.create(use.options, pipeline) };
}

function withComponent(ctx: StreamContext, component: { type: string; id: string }): StreamContext {
  return { ...ctx, logger: ctx.logger.child({ component: component.type, id: component.id }) };
}

function applyStages(
  input: Observable<unknown>,
  stages: BuiltStage[],
  ctx: StreamContext,
  count: (component: { type: string; id: string }) => OperatorFunction<unknown, unknown>,
): Observable<unknown> {
  return stages.reduce((data$, stage) => data$.pipe(stage.instance(withComponent(ctx, stage)), count(stage)), input);
}
