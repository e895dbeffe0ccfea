import test from 'ava';
import { performance } from 'node:perf_hooks';
import { countRound, countWrite, unbatchedLoad } from '../core/live/write-load.js';

/** Keep the event loop busy for `ms`, all of it "writing", in writes of `tagsPerWrite` tags. */
function busyWriting(ms: number, tagsPerWrite: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Spinning is the point: the loop is busy the whole time.
  }
  for (let i = 0; i < 100; i++) countWrite(tagsPerWrite);
  countRound(ms);
}

test('the same busy time projects a higher load when each write carried more tags', (t) => {
  unbatchedLoad();
  busyWriting(150, 1);
  const start = unbatchedLoad();
  t.true(start > 0.05, `one tag per write: the load is the busy share (${start})`);
  busyWriting(150, 1);
  const afterOne = unbatchedLoad();
  busyWriting(150, 4);
  const afterFour = unbatchedLoad();
  // Each sample moves the average a tenth of the way to it: at one tag per write towards 1, at four towards 4.
  const oneTag = afterOne - start;
  const fourTags = afterFour - afterOne;
  t.true(fourTags > 2 * oneTag, `four tags per write would have been four writes: +${fourTags} against +${oneTag}`);
});

test('samples are taken at most every 100 ms: a second call at once gives the same value', (t) => {
  const a = unbatchedLoad();
  t.is(unbatchedLoad(), a);
});
