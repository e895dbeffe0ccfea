/**
 * Test doubles for the live fan-out: a PlayerTransport over a real loopback socket (so queuedBytes is
 * the kernel's real backpressure), a client end that parses what a player would receive, and an
 * in-memory transport whose queue the test controls.
 */
import { readFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import type { Writable } from 'node:stream';
import * as wsModule from 'ws';
import { FlvDemuxer } from '../../core/flv/demuxer.js';
import { HTTP_LAST_CHUNK } from '../../core/live/http-chunk.js';
import type { PlayerTransport } from '../../core/live/types.js';
import { wsCloseFrame } from '../../core/live/ws-frame.js';
import type { MediaPacket } from '../../core/media/packet.js';
import type { Clock } from '../../core/clock.js';

const { Receiver } = wsModule as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => Writable };

export function fixturePackets(name: string): MediaPacket[] {
  const demuxer = new FlvDemuxer();
  const packets = demuxer.push(readFileSync(new URL(`../fixtures/${name}`, import.meta.url)));
  demuxer.end();
  return packets;
}

let nextId = 0;

function info(key: string, framing: 'ws' | 'http') {
  const [app = '', stream = ''] = key.split('/');
  return { id: `p-${++nextId}`, app, stream, key, transport: framing, address: '127.0.0.1:0', query: {} } as const;
}

/** A manual clock for the policy's time-based decisions. */
export class ManualClock implements Clock {
  t = 0;
  now(): number {
    return this.t;
  }
  wallNow(): number {
    return 1_700_000_000_000 + this.t;
  }
}

/** Everything in memory: writes are recorded, `queued` is whatever the test says. */
export class MemoryTransport implements PlayerTransport {
  readonly id: string;
  readonly app: string;
  readonly stream: string;
  readonly key: string;
  readonly transport: 'ws' | 'http';
  readonly address = '127.0.0.1:0';
  readonly query = {};
  readonly writes: Buffer[][] = [];
  queued = 0;
  /** Add every write to `queued`, as a peer that never reads would. */
  accumulate = false;
  /** Say the bytes are one stream, so batches may come joined into one Buffer (as sockets do). */
  byteStream = false;
  closedWith: { code: number; reason: string } | undefined;
  #listeners: (() => void)[] = [];

  constructor(key: string, readonly framing: 'ws' | 'http' = 'ws') {
    const i = info(key, framing);
    this.id = i.id;
    this.app = i.app;
    this.stream = i.stream;
    this.key = key;
    this.transport = framing;
  }

  get queuedBytes(): number {
    return this.queued;
  }

  write(frames: readonly Buffer[], count: number): void {
    const batch = frames.slice(0, count);
    this.writes.push(batch);
    if (this.accumulate) for (const f of batch) this.queued += f.length;
  }

  close(code: number, reason: string): void {
    this.closedWith ??= { code, reason };
    this.peerClose();
  }

  onClose(listener: () => void): void {
    this.#listeners.push(listener);
  }

  peerClose(): void {
    for (const l of this.#listeners.splice(0)) l();
  }

  get frames(): Buffer[] {
    return this.writes.flat();
  }
}

/** A player connection over real loopback TCP: the server end as a transport, the client end parsed. */
export class SocketTransport implements PlayerTransport {
  readonly id: string;
  readonly app: string;
  readonly stream: string;
  readonly key: string;
  readonly transport: 'ws' | 'http';
  readonly address: string;
  readonly query = {};
  closedWith: { code: number; reason: string } | undefined;

  constructor(readonly socket: Socket, key: string, readonly framing: 'ws' | 'http') {
    const i = info(key, framing);
    this.id = i.id;
    this.app = i.app;
    this.stream = i.stream;
    this.key = key;
    this.transport = framing;
    this.address = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.on('error', () => {});
  }

  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  write(frames: readonly Buffer[], count: number): void {
    if (this.socket.destroyed) return;
    this.socket.cork();
    for (const frame of frames.slice(0, count)) this.socket.write(frame);
    this.socket.uncork();
  }

  close(code: number, reason: string): void {
    this.closedWith ??= { code, reason };
    if (this.framing === 'ws') this.socket.end(wsCloseFrame(code, reason));
    else this.socket.end(HTTP_LAST_CHUNK);
    // A peer that never reads would keep an ended socket (and its buffer) forever.
    setTimeout(() => this.socket.destroy(), 200).unref();
  }

  onClose(listener: () => void): void {
    this.socket.once('close', listener);
  }
}

export interface ReceivedTag {
  type: number;
  dts: number;
  /** The whole tag: header, body, PreviousTagSize. */
  raw: Buffer;
  packet: MediaPacket;
}

/** The player's end: decodes WebSocket frames or HTTP chunks, then the FLV inside. */
export class PlayerClient {
  bytes = 0;
  header: Buffer | undefined;
  readonly tags: ReceivedTag[] = [];
  close: { code: number; reason: string } | undefined;
  ended = false;
  readonly #demuxer = new FlvDemuxer({ expectHeader: false });
  #raw = Buffer.alloc(0);
  #chunkBuffer = Buffer.alloc(0);
  #receiver: Writable | undefined;
  #waiters: (() => void)[] = [];

  constructor(readonly socket: Socket, framing: 'ws' | 'http', read = true) {
    if (framing === 'ws') {
      const receiver = new Receiver({ isServer: false, maxPayload: 0 });
      receiver.on('message', (data: Buffer) => this.#flv(Buffer.from(data)));
      receiver.on('conclude', (code: number, reason: Buffer) => (this.close = { code, reason: reason.toString() }));
      receiver.on('error', (error: Error) => {
        throw error;
      });
      this.#receiver = receiver;
    }
    socket.on('error', () => {});
    socket.on('end', () => {
      this.ended = true;
      this.#wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.#wake();
    });
    if (read) this.resume();
    else socket.pause();
  }

  resume(): void {
    this.socket.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      if (this.#receiver) this.#receiver.write(chunk);
      else this.#chunks(chunk);
      this.#wake();
    });
    this.socket.resume();
  }

  /** Resolves once `predicate` holds (checked on every arrival), or rejects after `ms`. */
  until(predicate: (client: PlayerClient) => boolean, ms = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate(this)) {
          clearTimeout(timer);
          resolve();
          return true;
        }
        if (this.ended) {
          clearTimeout(timer);
          reject(new Error(`connection ended before the condition held (${this.tags.length} tags)`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => reject(new Error(`condition not met in ${ms} ms (${this.tags.length} tags)`)), ms);
      if (check()) return;
      const waiter = () => {
        if (!check()) this.#waiters.push(waiter);
      };
      this.#waiters.push(waiter);
    });
  }

  closed(ms = 5000): Promise<void> {
    return this.until((c) => c.ended, ms).catch(() => {
      if (!this.ended) throw new Error('connection not closed in time');
    });
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  #chunks(chunk: Buffer): void {
    let buf = Buffer.concat([this.#chunkBuffer, chunk]);
    for (;;) {
      const eol = buf.indexOf('\r\n');
      if (eol < 0) break;
      const size = parseInt(buf.subarray(0, eol).toString('latin1'), 16);
      if (size === 0) {
        buf = buf.subarray(eol + 4);
        this.ended = true;
        break;
      }
      if (buf.length < eol + 2 + size + 2) break;
      this.#flv(buf.subarray(eol + 2, eol + 2 + size));
      buf = buf.subarray(eol + 2 + size + 2);
    }
    this.#chunkBuffer = Buffer.from(buf);
  }

  #flv(data: Buffer): void {
    let raw = this.#raw.length > 0 ? Buffer.concat([this.#raw, data]) : data;
    if (!this.header) {
      if (raw.length < 13) {
        this.#raw = Buffer.from(raw);
        return;
      }
      this.header = Buffer.from(raw.subarray(0, 13));
      raw = raw.subarray(13);
    }
    while (raw.length >= 11) {
      const total = 11 + raw.readUIntBE(1, 3) + 4;
      if (raw.length < total) break;
      const tag = Buffer.from(raw.subarray(0, total));
      raw = raw.subarray(total);
      const [packet] = this.#demuxer.push(tag);
      this.tags.push({ type: tag[0]!, dts: packet!.dts, raw: tag, packet: packet! });
    }
    this.#raw = Buffer.from(raw);
  }

  get hasAudio(): boolean {
    return (this.header![4]! & 0x04) !== 0;
  }

  get hasVideo(): boolean {
    return (this.header![4]! & 0x01) !== 0;
  }
}

/** A connected loopback socket pair. */
export async function socketPair(): Promise<{ server: Socket; client: Socket }> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const client = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', resolve));
  const server = await accepted;
  listener.close();
  return { server, client };
}

/** A player over a real socket pair: the transport for the fan-out and the parsing client. */
export async function socketPlayer(key: string, framing: 'ws' | 'http' = 'ws', read = true): Promise<{ transport: SocketTransport; client: PlayerClient }> {
  const { server, client } = await socketPair();
  return { transport: new SocketTransport(server, key, framing), client: new PlayerClient(client, framing, read) };
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
