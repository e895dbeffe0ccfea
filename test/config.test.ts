import test from 'ava';
import { ConfigError, type Diagnostic } from '../core/pipeline/config.js';
import { loadApp } from './helpers/app.js';

async function diagnostics(yaml: string, env: Record<string, string> = {}): Promise<Diagnostic[]> {
  try {
    await loadApp(yaml, { env });
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const remux = (stages: string, sinks = '[{ type: file, path: /tmp/x.flv }]') => `pipelines:
  main:
    source: { type: file, path: in.flv }
    stages: ${stages}
    sinks: ${sinks}
`;

test('a valid file loads, bare names and maps alike', async (t) => {
  const app = await loadApp(remux('[flv-demux, { type: timestamps, mode: zero }]'));
  const [pipeline] = app.config.pipelines;
  t.is(pipeline!.stages.length, 2);
  t.is(pipeline!.stages[1]!.options.mode, 'zero');
  t.is(pipeline!.stages[1]!.options.maxJumpMs, 1000, 'defaults are filled in');
});

test('an unknown component type names the nearest one, at its line', async (t) => {
  const [d] = await diagnostics(remux('[flv-demux, timestamp]'));
  t.is(d!.line, 4);
  t.regex(d!.message, /unknown stage type `timestamp`; did you mean `timestamps`\?/);
  t.is(d!.path, 'pipelines.main.stages[1]');
});

test('a sink used as a stage says what it is', async (t) => {
  const [d] = await diagnostics(remux('[flv-demux]', '[{ type: file, path: x.flv }, { type: flv-demux }]'));
  t.regex(d!.message, /unknown sink type `flv-demux`; `flv-demux` is a stage, not a sink/);
  t.is(d!.line, 5);
});

test('an unknown option is located at its key, with a suggestion', async (t) => {
  const yaml = `pipelines:
  main:
    source: { type: file, path: in.flv }
    stages:
      - flv-demux
      - type: timestamps
        mdoe: zero
    sinks: [{ type: file, path: /tmp/x.flv }]
`;
  const [d] = await diagnostics(yaml);
  t.is(d!.line, 7);
  t.is(d!.col, 9);
  t.regex(d!.message, /unknown option `mdoe` for stage `timestamps`; did you mean `mode`\?/);
});

test('a mistyped option says what was expected', async (t) => {
  const yaml = remux('[{ type: flv-demux, maxTagSize: "big" }]');
  const [d] = await diagnostics(yaml);
  t.is(d!.line, 4);
  t.regex(d!.message, /`maxTagSize` of stage `flv-demux` must be a number, not a string/);
});

test('a missing required option is reported', async (t) => {
  const [d] = await diagnostics(`pipelines:
  main:
    source: { type: file }
    stages: [flv-demux]
    sinks: [{ type: file, path: x.flv }]
`);
  t.is(d!.line, 3);
  t.regex(d!.message, /missing required option `path` for source `file`/);
});

test('an out-of-range value is reported with the bound', async (t) => {
  const [d] = await diagnostics(`server:
  port: 70000
pipelines:
  main:
    source: { type: file, path: in.flv }
    stages: [flv-demux]
    sinks: [{ type: file, path: x.flv }]
`);
  t.is(d!.line, 2);
  t.regex(d!.message, /`port` of server: Number must be less than or equal to 65535/);
});

test('wiring incompatible kinds says which stage to insert', async (t) => {
  const [d] = await diagnostics(remux('[timestamps]'));
  t.is(d!.line, 4);
  t.regex(d!.message, /stage `timestamps` consumes media packets but source `file` produces FLV bytes: add `flv-demux` before it/);
});

test('a sink fed the wrong kind is rejected too', async (t) => {
  const [d] = await diagnostics(remux('[]'));
  t.regex(d!.message, /sink `file` consumes media packets but source `file` produces FLV bytes: add `flv-demux` before it/);
  t.is(d!.line, 5);
});

test('a sink branch with its own stages is wired after the shared chain', async (t) => {
  const app = await loadApp(remux('[flv-demux]', '[{ type: file, path: a.flv }, { type: file, path: b.flv, stages: [{ type: filter, drop: [video] }] }]'));
  t.is(app.config.pipelines[0]!.sinks[1]!.stages[0]!.component.type, 'filter');
  const [d] = await diagnostics(remux('[]', '[{ type: file, path: b.flv, stages: [timestamps] }]'));
  t.regex(d!.message, /add `flv-demux` before it/);
});

test('environment variables: defaults, typed plain scalars, missing ones are errors', async (t) => {
  const yaml = `server:
  port: \${PORT:-8080}
pipelines:
  main:
    source: { type: file, path: "\${DIR}/in.flv" }
    stages: [flv-demux]
    sinks: [{ type: file, path: x.flv }]
`;
  const app = await loadApp(yaml, { env: { DIR: '/data' } });
  t.is((app.config.sections.get("server") as { port: number }).port, 8080);
  t.is(app.config.pipelines[0]!.source.options.path, '/data/in.flv');
  t.is(((await loadApp(yaml, { env: { DIR: "/d", PORT: "9001" } })).config.sections.get("server") as { port: number }).port, 9001);
  const [d] = await diagnostics(yaml);
  t.is(d!.line, 5);
  t.regex(d!.message, /environment variable DIR is not set and has no default/);
});

test('YAML syntax errors carry their position', async (t) => {
  const [d] = await diagnostics('pipelines:\n  main: [unclosed\n');
  t.regex(d!.message, /^YAML syntax/);
  t.true(d!.line >= 2);
});

test('a pipeline without sinks and an unknown top-level key are reported', async (t) => {
  const ds = await diagnostics(`pipelnes: {}
pipelines:
  main:
    source: { type: file, path: in.flv }
    sinks: []
`);
  t.true(ds.some((d) => d.line === 1 && /unknown option `pipelnes`.*did you mean `pipelines`/.test(d.message)));
  t.true(ds.some((d) => d.line === 5 && /at least one sink/.test(d.message)));
});

test('option refinements are enforced (loop needs realtime)', async (t) => {
  const [d] = await diagnostics(`pipelines:
  main:
    source: { type: file, path: in.flv, loop: true }
    stages: [flv-demux]
    sinks: [{ type: file, path: x.flv }]
`);
  t.regex(d!.message, /`loop` needs `realtime: true`/);
});

test('option errors and wiring errors come out in one round', async (t) => {
  const yaml = `pipelines:
  main:
    source: { type: file, path: in.flv }
    stages: [{ type: timestamps, mdoe: zero }]
    sinks: [{ type: ws-play, maxQueueMs: 1 }]
  second:
    source: { type: file, path: in.flv, lop: true }
    sinks: [{ type: file, path: /tmp/x.flv }]
`;
  const messages = (await diagnostics(yaml)).map((d) => d.message);
  t.true(messages.some((m) => /unknown option `mdoe`/.test(m)), 'option error');
  t.true(messages.some((m) => /stage `timestamps` consumes media packets but source `file` produces FLV bytes/.test(m)), 'wiring error of the same stage');
  t.true(messages.some((m) => /`maxQueueMs` of sink `ws-play`/.test(m)), 'an out-of-range option');
  t.true(messages.some((m) => /unknown option `lop`/.test(m)), 'the second pipeline too');
});

test('environment defaults work inside flow maps, typed as plain scalars', async (t) => {
  const app = await loadApp(remux('[{ type: flv-demux, maxTagSize: ${MAX:-20000} }, { type: timestamps, maxJumpMs: ${JUMP:-20} }]'), { env: { JUMP: '50' } });
  const [pipeline] = app.config.pipelines;
  t.is(pipeline!.stages[0]!.options.maxTagSize, 20000);
  t.is(pipeline!.stages[1]!.options.maxJumpMs, 50);
  const [d, ...rest] = await diagnostics(remux('[{ type: flv-demux, maxTagSize: ${NOPE} }]'));
  t.is(rest.length, 0, 'one error, not a cascade');
  t.regex(d!.message, /environment variable NOPE is not set/);
  t.is(d!.line, 4);
});

test('every use has an id: its place in the file by default, or its own; ids are unique', async (t) => {
  const app = await loadApp(remux('[flv-demux, { type: timestamps, id: clock }]'));
  const [pipeline] = app.config.pipelines;
  t.is(pipeline!.stages[0]!.id, 'main.stages[0]');
  t.is(pipeline!.stages[1]!.id, 'clock');
  t.is(pipeline!.sinks[0]!.id, 'main.sinks[0]');
  const [d] = await diagnostics(remux('[{ type: flv-demux, id: x }, { type: timestamps, id: x }]'));
  t.regex(d!.message, /id `x` is already used at pipelines\.main\.stages\[0\]/);
  const [bad] = await diagnostics(remux('[{ type: flv-demux, id: "a b" }]'));
  t.regex(bad!.message, /`id` of stage `flv-demux` must be a name/);
});

test('a sink\'s match is checked', async (t) => {
  const [d] = await diagnostics(remux('[flv-demux]', '[{ type: file, path: x.flv, match: "live/[x]" }]'));
  t.regex(d!.message, /`match` of sink `file`: a glob uses/);
});

const live = (sinks: string) => `pipelines:
  live:
    source: publish
    stages: [flv-demux, timestamps]
    sinks: ${sinks}
`;

test('two play sinks with a branch of their own are refused, saying what to write instead', async (t) => {
  const [d] = await diagnostics(live('[ws-play, { type: http-play, stages: [{ type: filter, drop: [video] }] }]'));
  t.regex(d!.message, /`ws-play` and `http-play` in one pipeline feed one live stream per key, so `http-play`'s own stages would not reach its players: write one `play` sink with `transports: \[ws, http\]`/);
  t.is(d!.path, 'pipelines.live.sinks[1]');
});

test('two play sinks must agree on the feed options; a transport is served once', async (t) => {
  const [d] = await diagnostics(live('[{ type: ws-play, graceMs: 100 }, http-play]'));
  t.regex(d!.message, /must agree on `graceMs` \(100 vs 5000\)/);
  const [twice] = await diagnostics(live('[play, ws-play]'));
  t.regex(twice!.message, /`play` and `ws-play` both serve ws players/);
  await t.notThrowsAsync(loadApp(live('[{ type: ws-play, waitForPublisherMs: 5000 }, http-play]')), 'player options may differ');
  await t.notThrowsAsync(loadApp(live('[{ type: play, stages: [{ type: filter, drop: [video] }] }]')), 'one play sink may have its own stages');
});

test('gop-cache is refused with what to write instead', async (t) => {
  const [d] = await diagnostics(live('[ws-play]').replace('[flv-demux, timestamps]', '[flv-demux, timestamps, gop-cache]'));
  t.regex(d!.message, /the GOP cache is an option of the play sinks, on by default .* set `gop: \{ maxFrames, maxBytes, maxMs \}` on the play sink/);
});

test('a pipeline that would read its own output is refused, directly or round a loop', async (t) => {
  const [self] = await diagnostics(`pipelines:
  ingest:
    source: publish
    stages: [flv-demux]
    sinks: [ws-play]
  ladder:
    source: { type: live, match: "live/*" }
    sinks: [{ type: republish, key: "{app}/{stream}_480p" }]
`);
  t.regex(self!.message, /pipeline `ladder` would read its own output: it reads `live\/\*` and `ladder` writes `live\/\*_480p` \(pipelines\.ladder\.sinks\[0\], `republish`\)/);
  t.is(self!.path, 'pipelines.ladder.source');
  await t.notThrowsAsync(loadApp(`pipelines:
  ingest:
    source: publish
    stages: [flv-demux]
    sinks: [ws-play]
  ladder:
    source: { type: live, match: ["live/*", "!live/*_480p"] }
    sinks: [{ type: republish, key: "{app}/{stream}_480p" }]
`), 'excluding the rendition breaks the loop');
  const loop = (await diagnostics(`pipelines:
  a:
    source: { type: live, match: "x/*" }
    sinks: [{ type: republish, key: "y/{stream}" }]
  b:
    source: { type: live, match: "y/*" }
    sinks: [{ type: republish, key: "x/{stream}" }]
`)).map((d) => d.message);
  t.is(loop.length, 2, 'both pipelines of the loop are named');
  t.regex(loop[0]!, /`a` writes `y\/\*` .* then `b` writes `x\/\*`/);
  const [served] = await diagnostics(`pipelines:
  again:
    source: { type: live, match: "live/*" }
    sinks: [ws-play]
`);
  t.regex(served!.message, /pipeline `again` would read its own output/, 'a play sink feeds the keys it reads');
});
