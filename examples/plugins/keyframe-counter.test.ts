import { join } from 'node:path';
import test from 'ava';
import { METRICS } from '../../core/metrics.js';
import { loadApp, tempDir } from '../../test/helpers/app.js';
import { demuxFile, FIXTURES } from '../../test/helpers/packets.js';

test('the plugin, loaded from a path in plugins:, registers a stage that runs in a pipeline', async (t) => {
  const dir = tempDir();
  const app = await loadApp(
    `plugins:
  - ${join(process.cwd(), 'examples/plugins/keyframe-counter.ts')}
pipelines:
  keyframes:
    source: { type: file, path: ${FIXTURES.h264Aac} }
    stages: [flv-demux, { type: count-keyframes, logEvery: 2 }]
    sinks: [{ type: file, path: ${join(dir, 'out.flv')} }]
`,
    { dir },
  );
  t.truthy(app.registry.get('stage', 'count-keyframes'));
  await app.start();
  await app.runtime.done;
  await app.stop();
  const expected = demuxFile(FIXTURES.h264Aac).filter((p) => p.kind === 'video' && p.keyframe && !p.config).length;
  const metrics = await app.container.get(METRICS).registry.metrics();
  t.true(expected > 0);
  t.regex(metrics, new RegExp(`wsflv_example_keyframes_total\\{pipeline="keyframes",stream="h264-aac-360p30-10s"\\} ${expected}\\b`));
});

test('a plugin path relative to the pipeline file resolves from its directory', async (t) => {
  const app = await loadApp(
    `plugins: [./plugins/keyframe-counter.ts]
pipelines:
  k:
    source: { type: file, path: x.flv }
    stages: [flv-demux, count-keyframes]
    sinks: [{ type: file, path: y.flv }]
`,
    { dir: join(process.cwd(), 'examples') },
  );
  t.is(app.config.pipelines[0]!.stages[1]!.options.logEvery, 10);
});

test('a plugin that exports no ContainerModule is refused with a clear error', async (t) => {
  const error = await t.throwsAsync(
    loadApp(`plugins: [${join(process.cwd(), 'core/clock.ts')}]
pipelines: {}
`),
  );
  t.regex(error!.message, /exports no ContainerModule/);
  t.is((error as { code?: string }).code, 'WSFLV_ERR_PLUGIN');
});
