import { close as closeFd, ftruncate, mkdirSync, openSync, write as writeFd } from 'node:fs';
import { dirname } from 'node:path';
import { WsflvError } from '../errors.js';
import type { MediaPacket } from '../media/packet.js';
import { encodeScriptData } from './amf0.js';
import { FlvMuxer } from './muxer.js';

const FLAGS_OFFSET = 4;
const BATCH_BYTES = 256 * 1024;
const MAX_BACKLOG_BYTES = 64 * 1024 * 1024;

export interface FlvFileWriterOptions {
  /** Pending bytes that trigger a write to the file (default 256 KiB). */
  batchBytes?: number;
  /** Fail with `EEXIST` rather than overwrite an existing file. */
  exclusive?: boolean;
  /** Bytes accepted but not yet on disk before `write()` fails: a disk that cannot keep up (default 64 MiB). */
  maxBacklogBytes?: number;
}

/** The disk is slower than the stream: more than the bound is waiting to be written. */
export class WriteBacklogError extends WsflvError {
  constructor(path: string, bytes: number) {
    super('WSFLV_ERR_WRITE_BACKLOG', `${path}: the disk cannot keep up (${bytes} bytes waiting to be written)`);
  }
}

function writeAt(fd: number, buffer: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (offset: number) =>
      writeFd(fd, buffer, offset, buffer.length - offset, position + offset, (error, written) => {
        if (error) return reject(error);
        if (offset + written < buffer.length) step(offset + written);
        else resolve();
      });
    step(0);
  });
}

/**
 * Writes media packets to an FLV file without blocking the event loop: `write()` and `flush()` only
 * queue, and batches go to the disk in order through libuv's thread pool, each ending on a whole
 * tag, so a killed process leaves a file that is valid up to its last written batch. A player's
 * latency never waits on a recording's disk. What is queued is bounded (`maxBacklogBytes`): past it,
 * `write()` throws a WriteBacklogError. A caller that can wait (a headless run) holds its source
 * on `drained()` instead. `close()` writes what is left, rewrites the header's audio/video flags
 * from the tracks actually written, and resolves once the file is closed.
 *
 * A write that fails (disk full) cuts the file back to the end of the last whole batch, so it still
 * ends on a whole tag, and every later `write()`/`flush()` (and `close()`) throws the same error.
 */
export class FlvFileWriter {
  readonly #fd: number;
  readonly #muxer = new FlvMuxer();
  readonly #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #batchBytes: number;
  /** File bytes on disk, ending on a whole tag. */
  #flushedBytes = 0;
  /** File bytes handed to the write chain (on disk or on their way). */
  #queuedBytes = 0;
  #chain: Promise<void> = Promise.resolve();
  readonly #maxBacklog: number;
  #failed: unknown;
  #ioFailed = false;
  #hasAudio = false;
  #hasVideo = false;
  #closed = false;
  tags = 0;

  constructor(
    readonly path: string,
    options: FlvFileWriterOptions = {},
  ) {
    this.#batchBytes = options.batchBytes ?? BATCH_BYTES;
    this.#maxBacklog = options.maxBacklogBytes ?? MAX_BACKLOG_BYTES;
    mkdirSync(dirname(path), { recursive: true });
    this.#fd = openSync(path, options.exclusive ? 'wx' : 'w');
    this.#queue(this.#muxer.header({ audio: true, video: true }));
  }

  get bytesWritten(): number {
    return this.#muxer.bytesWritten;
  }

  /** Bytes accepted and not yet on disk. */
  get backlog(): number {
    return this.#queuedBytes - this.#flushedBytes + this.#pendingBytes;
  }

  /** Resolves once everything flushed so far is on disk (rejects with a write failure). */
  drained(): Promise<void> {
    return this.#chain;
  }

  write(packet: MediaPacket): void {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.backlog > this.#maxBacklog) {
      this.#failed = new WriteBacklogError(this.path, this.backlog);
      throw this.#failed;
    }
    if (packet.kind === 'audio') this.#hasAudio = true;
    else if (packet.kind === 'video') this.#hasVideo = true;
    // An RTMP-style `@setDataFrame` wrapper is a command to a server; files carry the plain tag.
    const body = packet.script?.wrapped ? encodeScriptData(packet.script.name, packet.script.values) : packet.body;
    this.#queue(this.#muxer.tag({ kind: packet.kind, dts: packet.dts, body }));
    this.tags++;
  }

  /** Queue what is pending for the disk (it is written in order, off the event loop). */
  flush(): void {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#pendingBytes === 0) return;
    const batch = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    const position = this.#queuedBytes;
    this.#queuedBytes += batch.length;
    this.#chain = this.#chain.then(async () => {
      // After a backlog failure what was queued is still written (whole tags); after a write failure nothing is.
      if (this.#ioFailed) return;
      try {
        await writeAt(this.#fd, batch, position);
        this.#flushedBytes = position + batch.length;
      } catch (error) {
        this.#ioFailed = true;
        this.#failed ??= error;
        // Back to the last whole batch, so the file still ends on a whole tag.
        await new Promise<void>((resolve) => ftruncate(this.#fd, this.#flushedBytes, () => resolve()));
      }
    });
  }

  /** Write what is left, fix the header flags, close. Rejects with the first write failure, if any. */
  async close(): Promise<void> {
    if (this.#closed) return this.#chain;
    this.#closed = true;
    try {
      if (this.#failed === undefined) this.flush();
      await this.#chain;
      if (this.#failed !== undefined) throw this.#failed;
      const flags = Buffer.of((this.#hasAudio ? 0x04 : 0) | (this.#hasVideo ? 0x01 : 0));
      // A file with no media keeps both flags rather than claiming neither; a file whose header never
      // reached the disk (failed first write) is left empty.
      if ((this.#hasAudio || this.#hasVideo) && this.#flushedBytes > FLAGS_OFFSET) await writeAt(this.#fd, flags, FLAGS_OFFSET);
    } finally {
      await new Promise<void>((resolve) => closeFd(this.#fd, () => resolve()));
    }
  }

  #queue(buffer: Buffer): void {
    this.#pending.push(buffer);
    this.#pendingBytes += buffer.length;
    if (this.#pendingBytes >= this.#batchBytes) this.flush();
  }
}
