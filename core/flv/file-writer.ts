import { closeSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MediaPacket } from '../media/packet.js';
import { encodeScriptData } from './amf0.js';
import { FlvMuxer } from './muxer.js';

const FLAGS_OFFSET = 4;
const BATCH_BYTES = 256 * 1024;

export interface FlvFileWriterOptions {
  /** Pending bytes that trigger a write to the file (default 256 KiB). */
  batchBytes?: number;
  /** Fail with `EEXIST` rather than overwrite an existing file. */
  exclusive?: boolean;
}

/**
 * Writes media packets to an FLV file. Writes are synchronous and batched: a headless pipeline then
 * reads no faster than it can write (natural backpressure), and every flushed batch ends on a whole
 * tag, so a killed process leaves a file that is valid up to its last flush. `close()` rewrites the
 * header's audio/video flags from the tracks actually written.
 *
 * A write that fails (disk full) cuts the file back to the end of the last whole batch, so it still
 * ends on a whole tag, and every later `write()`/`flush()` throws the same error.
 */
export class FlvFileWriter {
  readonly #fd: number;
  readonly #muxer = new FlvMuxer();
  readonly #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #batchBytes: number;
  /** File bytes that end on a whole tag (everything flushed so far). */
  #flushedBytes = 0;
  #failed: unknown;
  #hasAudio = false;
  #hasVideo = false;
  #closed = false;
  tags = 0;

  constructor(
    readonly path: string,
    options: FlvFileWriterOptions = {},
  ) {
    this.#batchBytes = options.batchBytes ?? BATCH_BYTES;
    mkdirSync(dirname(path), { recursive: true });
    this.#fd = openSync(path, options.exclusive ? 'wx' : 'w');
    this.#queue(this.#muxer.header({ audio: true, video: true }));
  }

  get bytesWritten(): number {
    return this.#muxer.bytesWritten;
  }

  write(packet: MediaPacket): void {
    if (this.#failed !== undefined) throw this.#failed;
    if (packet.kind === 'audio') this.#hasAudio = true;
    else if (packet.kind === 'video') this.#hasVideo = true;
    // An RTMP-style `@setDataFrame` wrapper is a command to a server; files carry the plain tag.
    const body = packet.script?.wrapped ? encodeScriptData(packet.script.name, packet.script.values) : packet.body;
    this.#queue(this.#muxer.tag({ kind: packet.kind, dts: packet.dts, body }));
    this.tags++;
  }

  flush(): void {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#pendingBytes === 0) return;
    const batch = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    let written = 0;
    try {
      while (written < batch.length) written += writeSync(this.#fd, batch, written);
    } catch (error) {
      this.#failed = error;
      if (written > 0) {
        try {
          ftruncateSync(this.#fd, this.#flushedBytes);
        } catch {
          // The write error is the one worth reporting.
        }
      }
      throw error;
    }
    this.#flushedBytes += batch.length;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#failed === undefined) this.flush();
      const flags = Buffer.of((this.#hasAudio ? 0x04 : 0) | (this.#hasVideo ? 0x01 : 0));
      // A file with no media keeps both flags rather than claiming neither; a file whose header never
      // reached the disk (failed first write) is left empty.
      if ((this.#hasAudio || this.#hasVideo) && this.#flushedBytes > FLAGS_OFFSET) writeSync(this.#fd, flags, 0, 1, FLAGS_OFFSET);
    } finally {
      closeSync(this.#fd);
    }
  }

  #queue(buffer: Buffer): void {
    this.#pending.push(buffer);
    this.#pendingBytes += buffer.length;
    if (this.#pendingBytes >= this.#batchBytes) this.flush();
  }
}
