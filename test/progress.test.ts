import test from 'ava';
import { formatBytes, ProgressBar } from '../cli/progress.js';
import type { ActiveStream } from '../core/pipeline/runtime.js';

function fakeTerminal(isTTY: boolean) {
  const written: string[] = [];
  const stream = {
    isTTY,
    columns: 100,
    write: (text: string) => written.push(text),
    moveCursor: () => true,
    clearScreenDown: () => true,
  };
  return { stream: stream as unknown as NodeJS.WriteStream, written };
}

const stream = (done: number, total: number): ActiveStream => ({
  pipeline: 'p',
  startedAt: Date.now(),
  session: { key: 'cam1', origin: { transport: 'file' }, data$: undefined as never, progress: () => ({ done, total, unit: 'bytes' }) },
});

test('on a TTY the bar shows the share done, the amounts and the stream key', async (t) => {
  const { stream: tty, written } = fakeTerminal(true);
  const bar = new ProgressBar(tty);
  bar.start(() => [stream(250_000, 1_000_000)]);
  await new Promise((resolve) => setTimeout(resolve, 500));
  bar.stop();
  const last = written.at(-1) ?? '';
  t.regex(last, /\[#+-+\]\s+25% 250\.0 kB\/1\.0 MB .* cam1/);
});

test('not a TTY: nothing is drawn', async (t) => {
  const { stream: pipe, written } = fakeTerminal(false);
  const bar = new ProgressBar(pipe);
  bar.start(() => [stream(1, 2)]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  bar.stop();
  t.deepEqual(written, []);
});

test('formatBytes', (t) => {
  t.is(formatBytes(999), '999 B');
  t.is(formatBytes(1_500), '1.5 kB');
  t.is(formatBytes(229_255), '229.3 kB');
  t.is(formatBytes(2_000_000_000), '2.0 GB');
});
