import { performance } from 'node:perf_hooks';
import { retimeTag, type BenchTag, type LoadedMedia } from './media.js';

/** Tags one turn of the pacer may send when it is late: it catches up over several turns, not in one loop. */
const MAX_PER_TURN = 1000;

/**
 * Hands a loaded file's media tags to `send` in real time, each at its timestamp after `start()`,
 * the file looped with its timestamps carried on (retimed copies from the second pass). One timer,
 * armed for the next tag's due time. `send` returning false stops the pacer (its connection is gone).
 */
export class TagPacer {
  readonly #media: LoadedMedia;
  readonly #send: (bytes: Buffer, tag: BenchTag, dts: number, lateMs: number, now: number) => boolean | void;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #next = 0;
  #loop = 0;
  #t0 = 0;

  constructor(media: LoadedMedia, send: (bytes: Buffer, tag: BenchTag, dts: number, lateMs: number, now: number) => boolean | void) {
    this.#media = media;
    this.#send = send;
  }

  /** Sending, or waiting to send the next tag. */
  get running(): boolean {
    return this.#running;
  }

  start(): void {
    this.#running = true;
    this.#t0 = performance.now() + 5;
    this.#pump();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #pump = (): void => {
    this.#timer = undefined;
    const tags = this.#media.tags;
    let now = performance.now();
    for (let sent = 0; this.#running && sent < MAX_PER_TURN; sent++) {
      const tag = tags[this.#next]!;
      const offset = this.#loop * this.#media.durationMs;
      const dts = tag.dts + offset;
      const due = this.#t0 + dts;
      if (due > now + 0.5) break;
      if (this.#send(offset === 0 ? tag.bytes : retimeTag(tag.bytes, dts), tag, dts, now - due, now) === false) {
        this.stop();
        return;
      }
      if (++this.#next === tags.length) {
        this.#next = 0;
        this.#loop++;
      }
      now = performance.now();
    }
    if (!this.#running) return;
    const due = this.#t0 + tags[this.#next]!.dts + this.#loop * this.#media.durationMs;
    this.#timer = setTimeout(this.#pump, Math.max(0, due - now));
  };
}
