import { dirname } from 'node:path';
import { config as rxConfig } from 'rxjs';
import type { Container, ContainerModule, ServiceIdentifier } from 'inversify';
import { LOGGER, type Logger } from '../logger.js';
import { METRICS } from '../metrics.js';
import { ParsedConfigFile, resolveConfig, type ComponentUse, type PipelineConfig, type PipelineSpec } from './config.js';
import { PIPELINES, type PipelineOverview } from './tokens.js';
import { createContainer } from './container.js';
import type { ComponentRegistry } from './registry.js';
import { PipelineRuntime } from './runtime.js';

/**
 * A service with a start and a stop (the listener, the live registry's timers). Bound to this
 * multi-injection token, it is started before the pipelines run and stopped after they drained.
 */
export interface Lifecycle {
  readonly name: string;
  start(): Promise<void>;
  /** A drain begins, before the pipelines are stopped: stop taking new work (optional). */
  drain?(): void;
  stop(): Promise<void>;
}

export const LIFECYCLE: ServiceIdentifier<Lifecycle> = Symbol.for('wsflv.lifecycle');

export interface AppOptions {
  modules: ContainerModule[];
  env?: Record<string, string | undefined>;
  logger?: Logger;
}

/** A loaded pipeline file, ready to start: container, registry, resolved config and runtime. */
export class App {
  readonly #lifecycles: Lifecycle[];
  #started = false;

  private constructor(
    readonly container: Container,
    readonly registry: ComponentRegistry,
    readonly config: PipelineConfig,
    readonly runtime: PipelineRuntime,
  ) {
    this.#lifecycles = container.isBound(LIFECYCLE) ? container.getAll(LIFECYCLE) : [];
  }

  /** Parse, load plugins, resolve and validate; throws ConfigError with every diagnostic. */
  static async load(file: string, options: AppOptions): Promise<App> {
    const parsed = await ParsedConfigFile.read(file, options.env);
    return App.fromParsed(parsed, options);
  }

  static async fromParsed(parsed: ParsedConfigFile, options: AppOptions): Promise<App> {
    const { container, registry, sections } = await createContainer({
      modules: options.modules,
      plugins: parsed.diagnostics.length === 0 ? parsed.plugins : [],
      baseDir: dirname(parsed.file),
      sectionValue: (section) => parsed.section(section),
      logger: options.logger,
    });
    const config = resolveConfig(parsed, registry, sections);
    const logger = container.get(LOGGER);
    // Last line of defence: an error thrown inside a subscriber callback is logged, never a crash.
    rxConfig.onUnhandledError = (error) => logger.error({ err: error }, 'unhandled error in a stream');
    const runtime = new PipelineRuntime(config.pipelines, { logger, metrics: container.get(METRICS) });
    container.bind(PIPELINES).toConstantValue({ list: () => overview(config.pipelines, runtime) });
    return new App(container, registry, config, runtime);
  }

  get logger(): Logger {
    return this.container.get(LOGGER);
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    for (const service of this.#lifecycles) await service.start();
    this.runtime.start();
  }

  /** Drain within `deadlineMs`; true when everything ended cleanly. */
  async stop(deadlineMs = 5000): Promise<boolean> {
    for (const service of this.#lifecycles) service.drain?.();
    const clean = await this.runtime.stop(deadlineMs);
    await Promise.allSettled(this.#lifecycles.map((service) => service.stop()));
    return clean;
  }
}

function overview(pipelines: readonly PipelineSpec[], runtime: PipelineRuntime): PipelineOverview[] {
  const short = (use: ComponentUse<any>) => ({ id: use.id, type: use.component.type });
  return pipelines.map((p) => ({
    name: p.name,
    source: short(p.source),
    stages: p.stages.map(short),
    sinks: p.sinks.map((s) => ({ ...short(s), ...(s.match ? { match: s.match } : {}), stages: s.stages.map(short) })),
    streams: [...runtime.active].filter((a) => a.pipeline === p.name).map((a) => a.session.key).sort(),
  }));
}
