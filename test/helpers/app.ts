import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerModule } from 'inversify';
import { builtinModules } from '../../cli/builtins.js';
import { createLogger } from '../../core/logger.js';
import { App } from '../../core/pipeline/app.js';
import { ParsedConfigFile } from '../../core/pipeline/config.js';

/** A fresh temporary directory for one test. */
export function tempDir(prefix = 'wsflv-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Write `yaml` to a temp file and load it as an App with the built-in modules (plus any extra). */
export async function loadApp(yaml: string, options: { extra?: ContainerModule[]; env?: Record<string, string>; dir?: string } = {}): Promise<App> {
  const dir = options.dir ?? tempDir();
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(file, yaml);
  const parsed = new ParsedConfigFile(file, yaml, options.env ?? {});
  return App.fromParsed(parsed, {
    modules: [...builtinModules, ...(options.extra ?? [])],
    logger: createLogger({ level: process.env.WSFLV_LOG_LEVEL ?? 'silent' }),
  });
}
