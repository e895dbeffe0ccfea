import test from 'ava';
import { builtinModules } from '../cli/builtins.js';
import { createLogger } from '../core/logger.js';
import { App } from '../core/pipeline/app.js';
import { ParsedConfigFile } from '../core/pipeline/config.js';
import type { ServerConfig } from '../core/server/config.js';

test('the bundled pipeline.yaml validates, with defaults and with overrides from the environment', async (t) => {
  const logger = createLogger({ level: 'silent' });
  const defaults = await App.fromParsed(await ParsedConfigFile.read('pipeline.yaml', {}), { modules: builtinModules, logger });
  t.is((defaults.config.sections.get("server") as ServerConfig).port, 8080);
  t.is((defaults.config.sections.get("server") as ServerConfig).rtmp?.port, 1935, 'RTMP is on');
  const live = defaults.config.pipelines.find((p) => p.name === 'live')!;
  t.deepEqual(
    [live.source, ...live.stages, ...live.sinks].map((c) => c.component.type),
    ['publish', 'flv-demux', 'timestamps', 'ws-play', 'http-play', 'rtmp-play'],
  );
  const custom = await App.fromParsed(await ParsedConfigFile.read('pipeline.yaml', { PORT: '9123', HOST: '127.0.0.1' }), { modules: builtinModules, logger });
  t.is((custom.config.sections.get("server") as ServerConfig).port, 9123);
  t.is((custom.config.sections.get("server") as ServerConfig).host, '127.0.0.1');
});

test('the bundled pipeline.yaml\'s "#:" examples (auth, hooks, limits, snapshots, recording) validate when turned on', async (t) => {
  const { readFileSync } = await import('node:fs');
  const text = readFileSync('pipeline.yaml', 'utf8');
  const examples = text.split('\n').filter((line) => /^\s*#:/.test(line));
  t.true(examples.length >= 10, 'the examples are there');
  const enabled = text.replace(/^(\s*)#:/gm, '$1');
  const logger = createLogger({ level: 'silent' });
  const app = await App.fromParsed(new ParsedConfigFile('pipeline.yaml', enabled, {}), { modules: builtinModules, logger });
  const live = app.config.pipelines.find((p) => p.name === 'live')!;
  t.deepEqual(live.sinks.map((s) => s.component.type), ['ws-play', 'http-play', 'rtmp-play', 'snapshot', 'record']);
  t.truthy((app.config.sections.get("server") as { hooks?: { on_publish?: string } }).hooks?.on_publish);
  t.like(app.config.sections.get('server'), { workers: 'auto', cluster: { nats: 'nats://127.0.0.1:4222', node: 'node1' } });
});
