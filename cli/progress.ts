import type { ActiveStream } from '../core/pipeline/runtime.js';

/** Human-readable bytes: 1.2 MB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/**
 * One line per running stream, redrawn in place on a TTY: a bar of work done of the total, the rate,
 * and the stream key. Nothing is drawn when stderr is not a TTY (logs and CI output stay clean).
 */
export class ProgressBar {
  readonly #stream: NodeJS.WriteStream;
  readonly #startedAt = performance.now();
  #lines = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#stream = stream;
  }

  start(streams: () => Iterable<ActiveStream>): void {
    if (!this.#stream.isTTY) return;
    this.#timer = setInterval(() => this.#draw([...streams()]), 200);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#clear();
  }

  #draw(streams: ActiveStream[]): void {
    this.#clear();
    const width = Math.max(10, Math.min(30, (this.#stream.columns ?? 80) - 50));
    const seconds = Math.max((performance.now() - this.#startedAt) / 1000, 0.001);
    const lines = streams.flatMap((entry) => {
      const progress = entry.session.progress?.();
      if (!progress || progress.total <= 0) return [];
      const ratio = Math.min(progress.done / progress.total, 1);
      const filled = Math.round(ratio * width);
      const amount = progress.unit === 'bytes' ? `${formatBytes(progress.done)}/${formatBytes(progress.total)} ${formatBytes(progress.done / seconds)}/s` : `${(progress.done / 1000).toFixed(1)}/${(progress.total / 1000).toFixed(1)} s`;
      return [`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${amount} ${entry.session.key}`];
    });
    if (lines.length > 0) this.#stream.write(lines.join('\n') + '\n');
    this.#lines = lines.length;
  }

  #clear(): void {
    if (this.#lines === 0) return;
    this.#stream.moveCursor(0, -this.#lines);
    this.#stream.clearScreenDown();
    this.#lines = 0;
  }
}
