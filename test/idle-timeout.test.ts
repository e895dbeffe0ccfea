import test from 'ava';
import { Subject } from 'rxjs';
import { idleTimeout } from '../core/server/idle-timeout.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('values keep the stream alive; silence calls onIdle once and completes it', async (t) => {
  const source = new Subject<number>();
  const seen: number[] = [];
  let idle = 0;
  let completed = false;
  source.pipe(idleTimeout(80, () => idle++)).subscribe({ next: (v) => seen.push(v), complete: () => (completed = true) });
  // Values every 30 ms for 240 ms: three times the idle time, never idle.
  for (let i = 0; i < 8; i++) {
    source.next(i);
    await delay(30);
  }
  t.is(idle, 0);
  t.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7]);
  await delay(200);
  t.is(idle, 1);
  t.true(completed);
  source.next(99);
  t.deepEqual(seen.at(-1), 7, 'nothing after the stream completed');
});

test('a stream that ends or is unsubscribed leaves no timer behind', async (t) => {
  let idle = 0;
  const ended = new Subject<number>();
  ended.pipe(idleTimeout(40, () => idle++)).subscribe();
  ended.complete();
  const dropped = new Subject<number>();
  dropped.pipe(idleTimeout(40, () => idle++)).subscribe().unsubscribe();
  await delay(120);
  t.is(idle, 0);
});

test('errors pass through', (t) => {
  const source = new Subject<number>();
  let error: unknown;
  source.pipe(idleTimeout(1000, () => undefined)).subscribe({ error: (e: unknown) => (error = e) });
  source.error(new Error('broken'));
  t.is((error as Error).message, 'broken');
});
