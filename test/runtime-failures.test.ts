import test from 'ava';
import { interval, map, Observable, of, take, tap } from 'rxjs';
import { z } from 'zod';
import { defineSink, defineSource, defineStage } from '../core/pipeline/define.js';
import { componentModule } from '../core/pipeline/module.js';
import { StreamError } from '../core/pipeline/stream-error.js';
import { loadApp } from './helpers/app.js';

// Numbers stand in for media here: what is tested is how the runtime routes streams and contains
// failures, not the media. Each test gets its own record of what reached which sink.
declare module '../core/pipeline/define.js' {
  interface KindTypes {
    numbers: number;
  }
}

interface Record {
  received: Map<string, number[]>;
  aborted: Map<string, Error>;
}

function components(record: Record) {
  const source = defineSource({
    type: 'keys',
    description: 'one stream of 20 numbers per key',
    produces: 'numbers',
    options: z.object({ keys: z.array(z.string()) }).strict(),
    create: ({ keys }) => ({
      sessions$: of(
        ...keys.map((key) => ({
          key,
          origin: { transport: 'test' },
          data$: interval(1).pipe(take(20)),
          abort: (error: Error) => record.aborted.set(key, error),
        })),
      ),
    }),
  });
  const end = defineStage({
    type: 'end-at',
    description: 'ends the stream on purpose at item `at`',
    consumes: 'numbers',
    produces: 'numbers',
    options: z.object({ at: z.number() }).strict(),
    create: ({ at }) => () =>
      map((n: number) => {
        if (n === at) throw new StreamError({ code: 'TEST_ERR_ENOUGH', reason: `enough at ${at}`, close: { ws: 4001, http: 422 } });
        return n;
      }),
  });
  const collect = defineSink({
    type: 'collect',
    description: 'records numbers per sink name and stream',
    consumes: 'numbers',
    options: z.object({ name: z.string(), failAt: z.number().optional(), stopWith: z.number().optional() }).strict(),
    create: ({ name, failAt, stopWith }) => ({
      consume: (ctx, data$: Observable<number>) =>
        data$.pipe(
          tap((n) => {
            const list = `${name}:${ctx.key}`;
            record.received.set(list, [...(record.received.get(list) ?? []), n]);
            if (n === failAt) throw Object.assign(new Error(`${name} cannot write`), { code: 'TEST_ERR_DISK' });
            if (n === stopWith) throw new StreamError({ code: 'TEST_ERR_SINK_SAYS_STOP', reason: `${name} ended the stream` });
          }),
        ),
    }),
  });
  return componentModule(source, end, collect);
}

async function run(yaml: string) {
  const record: Record = { received: new Map(), aborted: new Map() };
  const app = await loadApp(yaml, { extra: [components(record)] });
  await app.start();
  await app.runtime.done;
  await app.stop();
  return { record, summary: app.runtime.summary };
}

const count = (record: Record, list: string) => record.received.get(list)?.length ?? 0;

test('a failing sink ends only itself: the other sinks get the whole stream and the source is not told', async (t) => {
  const { record, summary } = await run(`pipelines:
  p:
    source: { type: keys, keys: [a/x] }
    sinks:
      - { type: collect, name: broken, failAt: 3 }
      - { type: collect, name: healthy }
`);
  t.is(count(record, 'broken:a/x'), 4);
  t.is(count(record, 'healthy:a/x'), 20);
  t.is(record.aborted.size, 0);
  t.deepEqual(summary, { ended: 1, failed: 0, failedSources: 0, units: 0 });
});

test('when every sink has failed the stream ends with the last failure', async (t) => {
  const { record, summary } = await run(`pipelines:
  p:
    source: { type: keys, keys: [a/x] }
    sinks:
      - { type: collect, name: one, failAt: 2 }
      - { type: collect, name: two, failAt: 6 }
`);
  t.is(count(record, 'two:a/x'), 7);
  t.regex(record.aborted.get('a/x')!.message, /two cannot write/);
  t.is(summary.failed, 1);
});

test('a StreamError from a trunk stage ends the stream on purpose, its close reaches the source', async (t) => {
  const { record } = await run(`pipelines:
  p:
    source: { type: keys, keys: [a/x, a/y] }
    stages: [{ type: end-at, at: 5 }]
    sinks: [{ type: collect, name: c }]
`);
  t.is(count(record, 'c:a/x'), 5);
  const error = record.aborted.get('a/x');
  t.true(error instanceof StreamError);
  t.deepEqual((error as StreamError).close, { ws: 4001, http: 422, rtmp: 'NetStream.Publish.Rejected' });
  t.is((error as StreamError).code, 'TEST_ERR_ENOUGH');
});

test('a StreamError from one sink ends the whole stream, not just that sink', async (t) => {
  const { record } = await run(`pipelines:
  p:
    source: { type: keys, keys: [a/x] }
    sinks:
      - { type: collect, name: judge, stopWith: 4 }
      - { type: collect, name: other }
`);
  t.is(count(record, 'judge:a/x'), 5);
  t.true(count(record, 'other:a/x') <= 5, 'the other sink stops with the stream');
  t.is(record.aborted.get('a/x')?.message, 'judge ended the stream');
});

test('match: a sink takes only the streams whose key its globs take', async (t) => {
  const { record } = await run(`pipelines:
  p:
    source: { type: keys, keys: [live/a, vip/b, vip/c/deep, live/d] }
    sinks:
      - { type: collect, name: vip, match: vip/* }
      - { type: collect, name: all }
      - { type: collect, name: not-d, match: ["**", "!live/d"] }
`);
  t.deepEqual([...record.received.keys()].filter((k) => k.startsWith('vip:')), ['vip:vip/b']);
  t.is([...record.received.keys()].filter((k) => k.startsWith('all:')).length, 4);
  t.deepEqual([...record.received.keys()].filter((k) => k.startsWith('not-d:')).sort(), ['not-d:live/a', 'not-d:vip/b', 'not-d:vip/c/deep']);
});

test('StreamError: defaults, close mapping, a WsflvError with a stable code', (t) => {
  const error = new StreamError({ code: 'PLUGIN_ERR_X', reason: 'no' });
  t.deepEqual(error.close, { ws: 4000, http: 409, rtmp: 'NetStream.Publish.Rejected' });
  t.is(error.closeCode, 4000);
  t.is(error.message, 'no');
  t.is(error.name, 'StreamError');
});
