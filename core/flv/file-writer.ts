import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MediaPacket } from '../media/packet.js';
import { encodeScriptData } from './amf0.js';
import { FlvMuxer } from './muxer.js';

const FLAGS_OFFSET = 4;
const BATCH_BYTES = 256 * 1024;

/**
 * Writes media packets to an FLV file. Writes are synchronous and batched: a headless pipeline then
 * reads no faster than it can write (natural backpressure), and every flushed batch ends on a whole
 * tag, so a killed process leaves a file that is valid up to its last flush. `close()` rewrites the
 * header's audio/video flags from the tracks actually written.
 */
export class FlvFileWriter {
  readonly #fd: number;
  readonly #muxer = new FlvMuxer();
  readonly #pending: Buffer[] = [];
  #pendingBytes = 0;
  #hasAudio = false;
  #hasVideo = false;
  #closed = false;
  tags = 0;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.#fd = openSync(path, 'w');
    this.#queue(this.#muxer.header({ audio: true, video: true }));
  }

  get bytesWritten(): number {
    return this.#muxer.bytesWritten;
  }

  write(packet: MediaPacket): void {
    if (packet.kind === 'audio') this.#hasAudio = true;
    else if (packet.kind === 'video') this.#hasVideo = true;
    // An RTMP-style `@setDataFrame` wrapper is a command to a server; files carry the plain tag.
    const body = packet.script?.wrapped ? encodeScriptData(packet.script.name, packet.script.values) : packet.body;
    this.#queue(this.#muxer.tag({ kind: packet.kind, dts: packet.dts, body }));
    this.tags++;
  }

  flush(): void {
    if (this.#pendingBytes === 0) return;
    const batch = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    let written = 0;
    while (written < batch.length) written += writeSync(this.#fd, batch, written);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.flush();
      const flags = Buffer.of((this.#hasAudio ? 0x04 : 0) | (this.#hasVideo ? 0x01 : 0));
      // A file with no media keeps both flags rather than claiming neither.
      if (this.#hasAudio || this.#hasVideo) writeSync(this.#fd, flags, 0, 1, FLAGS_OFFSET);
    } finally {
      closeSync(this.#fd);
    }
  }

  #queue(buffer: Buffer): void {
    this.#pending.push(buffer);
    this.#pendingBytes += buffer.length;
    if (this.#pendingBytes >= BATCH_BYTES) this.flush();
  }
}
