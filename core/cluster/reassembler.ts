import type { BusMessage } from './bus-message.js';

export type Reassembled =
  /** A whole batch of FLV bytes; `resync`: messages were lost before it, so it follows a gap. */
  | { type: 'batch'; bytes: Buffer; resync: boolean; start: boolean }
  | { type: 'none' };

const NONE: Reassembled = { type: 'none' };

/**
 * Puts a feed's messages back into batches and notices lost ones. Core NATS delivers at most once: a
 * message missing from the sequence is a gap, the batch it was part of is dropped, and the next whole
 * batch is flagged `resync` so the reader starts again at a keyframe instead of handing players a
 * broken GOP. A message that starts a feed resets the sequence.
 */
export class Reassembler {
  #expected = -1;
  #parts: Buffer[] = [];
  #partsWanted = 0;
  #lost = false;
  #started = false;
  #batchStart = false;
  /** Messages found missing (or out of order) so far. */
  gaps = 0;

  push(message: BusMessage): Reassembled {
    if (message.start) {
      this.#expected = message.seq;
      this.#parts = [];
      this.#partsWanted = 0;
      this.#lost = false;
      this.#started = true;
    }
    if (!this.#started) {
      // Joined after the feed's first message (ours was lost): wait for a batch's first part.
      this.#started = true;
      this.#lost = true;
      this.#expected = message.seq;
    }
    if (message.seq !== this.#expected) {
      this.gaps++;
      this.#lost = true;
      this.#parts = [];
      this.#partsWanted = 0;
    }
    this.#expected = (message.seq + 1) >>> 0;
    if (message.kind !== 'media') return NONE;
    if (this.#partsWanted !== 0 && (message.parts !== this.#partsWanted || message.part !== this.#parts.length)) {
      // A batch that changed shape midway: what came of it is unusable.
      this.gaps++;
      this.#lost = true;
      this.#parts = [];
      this.#partsWanted = 0;
    }
    if (this.#partsWanted === 0) {
      // Only the first part of a batch starts one; the rest of a broken batch is skipped.
      if (message.part !== 0) {
        this.#lost = true;
        return NONE;
      }
      this.#partsWanted = message.parts;
      this.#batchStart = message.start;
    }
    this.#parts.push(message.payload);
    if (this.#parts.length < this.#partsWanted) return NONE;
    const bytes = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
    const resync = this.#lost;
    this.#parts = [];
    this.#partsWanted = 0;
    this.#lost = false;
    return { type: 'batch', bytes, resync, start: this.#batchStart };
  }
}
