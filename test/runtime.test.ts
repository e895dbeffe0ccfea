import test from 'ava';
import { injectable } from 'inversify';
import { interval, map, Observable, of, take, tap } from 'rxjs';
import { z } from 'zod';
import type { SinkComponent, SourceComponent, StageComponent, StreamSession } from '../core/pipeline/component.js';
import { componentModule } from '../core/pipeline/module.js';
import { loadApp } from './helpers/app.js';

// Test components: a source of two concurrent streams of numbers, a stage that fails on one stream
// only, and a sink that records what reached it.
const received = new Map<string, number[]>();
const aborted: string[] = [];

@injectable()
class TwoStreamsSource implements SourceComponent {
  readonly role = 'source';
  readonly type = 'two-streams';
  readonly description = 'two concurrent streams of numbers';
  readonly produces = 'numbers';
  readonly options = z.object({}).strict();
  create() {
    const session = (key: string): StreamSession => ({
      key,
      origin: { transport: 'test' },
      data$: interval(2).pipe(take(20)),
      abort: () => aborted.push(key),
    });
    return { sessions$: of(session('a/ok'), session('a/bad')) };
  }
}

@injectable()
class FailOnStage implements StageComponent {
  readonly role = 'stage';
  readonly type = 'fail-on';
  readonly description = 'throws at item 5 of the stream named in `key`';
  readonly consumes = 'numbers';
  readonly produces = 'numbers';
  readonly options = z.object({ key: z.string() }).strict();
  create(options: { key: string }) {
    return (ctx: { key: string }) =>
      map((n: number) => {
        if (ctx.key === options.key && n === 5) throw new Error('boom');
        return n;
      });
  }
}

@injectable()
class RecordSink implements SinkComponent {
  readonly role = 'sink';
  readonly type = 'record-numbers';
  readonly description = 'records numbers per stream';
  readonly consumes = 'numbers';
  readonly options = z.object({}).strict();
  create() {
    return {
      consume: (ctx: { key: string }, data$: Observable<number>) =>
        data$.pipe(tap((n) => received.set(ctx.key, [...(received.get(ctx.key) ?? []), n]))),
    };
  }
}

const testModule = componentModule(TwoStreamsSource, FailOnStage, RecordSink);

test.serial('an error in one stream ends that stream only, and its source is told why', async (t) => {
  received.clear();
  const app = await loadApp(
    `pipelines:
  numbers:
    source: two-streams
    stages: [{ type: fail-on, key: a/bad }]
    sinks: [record-numbers]
`,
    { extra: [testModule] },
  );
  await app.start();
  await app.runtime.done;
  t.deepEqual(received.get('a/ok'), Array.from({ length: 20 }, (_, i) => i));
  t.deepEqual(received.get('a/bad'), [0, 1, 2, 3, 4]);
  t.deepEqual(aborted, ['a/bad']);
  t.deepEqual(app.runtime.summary, { ended: 2, failed: 1, failedSources: 0, units: 0 });
  t.true(await app.stop());
});

test.serial('every sink of a pipeline sees every item, branches apply their own stages, a failing branch ends only its sink', async (t) => {
  received.clear();
  const app = await loadApp(
    `pipelines:
  numbers:
    source: two-streams
    sinks:
      - record-numbers
      - { type: record-numbers, stages: [{ type: fail-on, key: a/ok }] }
`,
    { extra: [testModule] },
  );
  await app.start();
  await app.runtime.done;
  // Two sinks record into one map: 20 items for a/bad from each. a/ok's branch fails at item 5: that
  // sink stops (0..4 reached it) and the other one, and the stream, go on to the end.
  t.is(received.get('a/bad')!.length, 40);
  t.is(received.get('a/ok')!.length, 25);
  t.deepEqual(app.runtime.summary, { ended: 2, failed: 0, failedSources: 0, units: 0 });
  await app.stop();
});

test.serial('per-component item counters are exported as metrics', async (t) => {
  received.clear();
  const app = await loadApp(`pipelines:
  numbers:
    source: two-streams
    sinks: [record-numbers]
`, { extra: [testModule] });
  await app.start();
  await app.runtime.done;
  const { METRICS } = await import('../core/metrics.js');
  const text = await app.container.get(METRICS).scrape();
  t.regex(text, /wsflv_pipeline_items_total\{pipeline="numbers",component="record-numbers",id="numbers\.sinks\[0\]"\} 40/);
  await app.stop();
});
