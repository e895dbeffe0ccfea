import 'reflect-metadata';
import { isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Container, ContainerModule } from 'inversify';
import { tsImport } from 'tsx/esm/api';
import { CLOCK, systemClock } from '../clock.js';
import { WsflvError } from '../errors.js';
import { createLogger, LOGGER, type Logger } from '../logger.js';
import { Metrics, METRICS } from '../metrics.js';
import { isDefinition } from './define.js';
import { componentModule } from './module.js';
import { COMPONENT } from './tokens.js';
import { ComponentRegistry } from './registry.js';
import { CONFIG_SECTION, mergeSections, type ConfigSection } from './section.js';

/** A plugin could not be imported, or exports no ContainerModule. */
export class PluginLoadError extends WsflvError {
  constructor(specifier: string, reason: string, cause?: unknown) {
    super('WSFLV_ERR_PLUGIN', `plugin \`${specifier}\`: ${reason}`, { cause });
  }
}

export interface ContainerOptions {
  /** Built-in component modules (one per folder: sources, stages, sinks). */
  modules: ContainerModule[];
  /** Plugin specifiers: paths (relative to `baseDir`) or package names. */
  plugins?: string[];
  baseDir?: string;
  /** Each section's value from the file (defaults where the file has none); see core/pipeline/section.ts. */
  sectionValue?: (section: ConfigSection) => unknown;
  logger?: Logger;
}

/**
 * The application container: shared services as singletons, then every component module, built-in
 * or plugin, loaded the same way.
 */
export async function createContainer(options: ContainerOptions): Promise<{ container: Container; registry: ComponentRegistry; sections: ConfigSection[] }> {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind(LOGGER).toConstantValue(options.logger ?? createLogger());
  container.bind(METRICS).toConstantValue(new Metrics());
  container.bind(CLOCK).toConstantValue(systemClock);
  container.load(...options.modules);
  for (const specifier of options.plugins ?? []) {
    container.load(await importPlugin(specifier, options.baseDir ?? process.cwd()));
  }
  // Every section a loaded module owns is bound, from the file or its defaults, before any service is built.
  const sections = mergeSections(container.isBound(CONFIG_SECTION) ? container.getAll(CONFIG_SECTION) : []);
  for (const section of sections) {
    container.bind(section.token).toConstantValue(options.sectionValue ? options.sectionValue(section) : section.schema.parse({}));
  }
  return { container, registry: new ComponentRegistry(container.getAll(COMPONENT)), sections };
}

/**
 * Plugin files compile with these settings, never with the project's or the caller's tsconfig: a
 * plugin may live in any folder (one with no tsconfig, or a `"type": "module"` package) and may use
 * decorators or not.
 */
const PLUGIN_TSCONFIG = fileURLToPath(new URL('./plugin.tsconfig.json', import.meta.url));

/**
 * A plugin module exports a ContainerModule as `default` (or as `plugin`), or a function returning one,
 * or `define*` definitions (one, or an array). Paths resolve from `baseDir`, and so do package names
 * (the plugin is installed next to the pipeline file, not necessarily next to wsflv).
 */
export async function importPlugin(specifier: string, baseDir: string): Promise<ContainerModule> {
  const isPath = specifier.startsWith('.') || isAbsolute(specifier);
  const target = isPath ? pathToFileURL(resolve(baseDir, specifier)).href : specifier;
  let module: Record<string, unknown>;
  try {
    module = (await tsImport(target, { parentURL: pathToFileURL(resolve(baseDir) + sep).href, tsconfig: PLUGIN_TSCONFIG })) as Record<string, unknown>;
  } catch (error) {
    throw new PluginLoadError(specifier, `cannot be imported: ${(error as Error).message}`, error);
  }
  let exported = module.default ?? module.plugin;
  // A CommonJS plugin's exports arrive wrapped once more under `default`.
  if (exported && typeof exported === 'object' && !('load' in exported) && 'default' in exported) exported = (exported as { default: unknown }).default;
  if (typeof exported === 'function' && !isDefinition(exported)) exported = (exported as () => unknown)();
  if (isDefinition(exported)) return componentModule(exported as never);
  if (Array.isArray(exported) && exported.length > 0 && exported.every(isDefinition)) return componentModule(...(exported as never[]));
  // Duck-typed, not `instanceof`: a plugin installed on its own may bring its own copy of inversify.
  if (typeof (exported as ContainerModule | undefined)?.load !== 'function') {
    throw new PluginLoadError(specifier, 'exports no ContainerModule (export one as `default` or `plugin`, or export `define*` definitions)');
  }
  return exported as ContainerModule;
}
