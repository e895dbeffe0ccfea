import { writeFileSync } from 'node:fs';
import type { ContainerModule } from 'inversify';
import { join } from 'node:path';
import { accessModule } from '../../core/access/module.js';
import { createLogger } from '../../core/logger.js';
import { liveModule } from '../../core/live/module.js';
import { clusterModule } from '../../core/cluster/module.js';
import { App } from '../../core/pipeline/app.js';
import { ParsedConfigFile } from '../../core/pipeline/config.js';
import { LIVE_SERVER, type LiveServer } from '../../core/server/listener.js';
import { rtmpModule } from '../../core/rtmp/module.js';
import { serverModule } from '../../core/server/module.js';
import { snapshotModule } from '../../core/snapshot/module.js';
import { sinksModule } from '../../sinks/index.js';
import { sourcesModule } from '../../sources/index.js';
import { stagesModule } from '../../stages/index.js';
import { tempDir } from './app.js';

export const liveModules = [sourcesModule, stagesModule, sinksModule, serverModule, accessModule, rtmpModule, liveModule, clusterModule, snapshotModule];

export interface LiveApp {
  app: App;
  server: LiveServer;
  /** Base URL, e.g. `ws://127.0.0.1:40123` (`wss` under TLS). */
  url(scheme?: 'ws' | 'http'): string;
  stop(): Promise<boolean>;
  /** The app's log lines (JSON), when started with `{ logs: true }`: the last 500. */
  logs: string[];
}

/** Load `yaml` as a pipeline file with the live modules, start it, and return where it listens. */
export async function startLiveApp(yaml: string, env: Record<string, string> = {}, options: { logs?: boolean; modules?: ContainerModule[] } = {}): Promise<LiveApp> {
  const file = join(tempDir('wsflv-live-'), 'pipeline.yaml');
  writeFileSync(file, yaml);
  const logs: string[] = [];
  // Kept in memory so a failing test can say what the app saw.
  const destination = { write: (line: string) => void (logs.push(line.trimEnd()) > 500 && logs.shift()) };
  const app = await App.fromParsed(new ParsedConfigFile(file, yaml, env), {
    modules: options.modules ?? liveModules,
    logger: options.logs ? createLogger({ level: 'info', destination }) : createLogger({ level: process.env.WSFLV_LOG_LEVEL ?? 'silent' }),
  });
  await app.start();
  const server = app.container.get(LIVE_SERVER);
  return { app, server, logs, url: (scheme = 'http') => server.url(scheme), stop: () => app.stop(3000) };
}

/** The usual live pipeline: publishers in, demuxed, timestamps fixed, GOP cached, served to players. */
export function livePipeline(options: { source?: string; sinks?: string[]; server?: string; sourceOptions?: string; sinkOptions?: string } = {}): string {
  const source = options.source ?? 'publish';
  const sinks = options.sinks ?? ['ws-play', 'http-play'];
  const sinkLines = sinks.map((type) => `      - { type: ${type}${options.sinkOptions ? `, ${options.sinkOptions}` : ''} }`).join('\n');
  return `server:
  host: 127.0.0.1
  port: 0
${options.server ?? ''}
pipelines:
  live:
    source: { type: ${source}${options.sourceOptions ? `, ${options.sourceOptions}` : ''} }
    stages: [flv-demux, timestamps]
    sinks:
${sinkLines}
`;
}
