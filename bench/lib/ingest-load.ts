/**
 * The ingest bench's load generator, a child process of bench/ingest.ts: P publishers in this one
 * process, each sending the same FLV file in real time (one tag at its timestamp, the file looped with
 * its timestamps carried on) over WebSocket, HTTP POST (chunked) or RTMP, to 127.0.0.1 only.
 * Publishers start `staggerMs` apart so their tags interleave as independent encoders' would.
 *
 * Protocol with the parent: argv[2] is a JSON IngestConfig. The child sends {type:'publishing'} once
 * every publisher is connected, then {type:'result'} when the parent sends {type:'window-end'} after
 * {type:'window-start'}; it exits on its own after `maxRunMs`.
 */
import { request, type ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { RtmpClient } from '../../core/rtmp/client.js';
import { loadMedia, type LoadedMedia } from './media.js';
import { TagPacer } from './pacer.js';

export type IngestTransport = 'ws' | 'http' | 'rtmp';

export interface IngestConfig {
  transport: IngestTransport;
  /** The server's port for this transport (the RTMP port for rtmp). */
  port: number;
  publishers: number;
  media: string;
  staggerMs: number;
  maxRunMs: number;
}

export interface IngestResult {
  /** Bytes and tags all publishers sent in the window. */
  windowBytes: number;
  windowTags: number;
  windowMs: number;
  /** Worst lateness of a send against its due time, in the window. */
  maxLateMs: number;
  /** Most bytes any publisher's socket held unsent, in the window: the server not reading fast enough. */
  maxQueuedBytes: number;
  /** Publishers the server closed. */
  closed: number;
}

export type IngestParentMessage = { type: 'window-start' } | { type: 'window-end' };
export type IngestChildMessage = { type: 'publishing'; connected: number } | { type: 'result'; result: IngestResult } | { type: 'error'; message: string };

const send = (message: IngestChildMessage) => process.send?.(message);

/** One way of putting FLV tags on the wire. */
interface Uplink {
  write(tag: Buffer): void;
  readonly queuedBytes: number;
  close(): void;
}

async function openUplink(config: IngestConfig, index: number, media: LoadedMedia, onClose: () => void): Promise<Uplink> {
  const path = `/live/ingest${index}`;
  if (config.transport === 'rtmp') {
    const client = await RtmpClient.publish(`rtmp://127.0.0.1:${config.port}${path}`, { timeoutMs: 10_000 });
    client.socket.once('close', onClose);
    // The leading tags (metadata, decoder configurations): RTMP has no FLV header.
    for (const tag of media.initTags) client.sendTag(tag);
    return { write: (tag) => client.sendTag(tag), get queuedBytes() { return client.queuedBytes; }, close: () => client.close() };
  }
  if (config.transport === 'ws') {
    // The subprotocol says publish: the same URL without it plays.
    const ws = new WebSocket(`ws://127.0.0.1:${config.port}${path}.flv`, 'publisher', { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.on('close', onClose);
    ws.on('error', () => undefined);
    ws.send(media.init);
    return { write: (tag) => ws.send(tag), get queuedBytes() { return ws.bufferedAmount; }, close: () => ws.terminate() };
  }
  const req: ClientRequest = request({ host: '127.0.0.1', port: config.port, method: 'POST', path: `${path}.flv`, headers: { 'Content-Type': 'video/x-flv', 'Transfer-Encoding': 'chunked' } });
  req.on('error', () => undefined);
  req.on('close', onClose);
  req.on('response', (res) => res.resume());
  req.flushHeaders();
  await new Promise<void>((resolve, reject) => {
    req.once('socket', (socket) => {
      if (!socket.connecting) resolve();
      else socket.once('connect', () => resolve()).once('error', reject);
    });
  });
  req.write(media.init);
  return { write: (tag) => req.write(tag), get queuedBytes() { return req.socket?.writableLength ?? 0; }, close: () => req.destroy() };
}

class Publisher {
  windowBytes = 0;
  windowTags = 0;
  maxLateMs = 0;
  maxQueuedBytes = 0;
  measuring = false;
  #uplink: Uplink | undefined;
  readonly #pacer: TagPacer;

  constructor(media: LoadedMedia) {
    this.#pacer = new TagPacer(media, (bytes, _tag, _dts, lateMs) => {
      const uplink = this.#uplink;
      if (!uplink) return false;
      uplink.write(bytes);
      if (this.measuring) {
        this.windowBytes += bytes.length;
        this.windowTags++;
        if (lateMs > this.maxLateMs) this.maxLateMs = lateMs;
        if (uplink.queuedBytes > this.maxQueuedBytes) this.maxQueuedBytes = uplink.queuedBytes;
      }
    });
  }

  start(uplink: Uplink): void {
    this.#uplink = uplink;
    this.#pacer.start();
  }

  stop(): void {
    this.#pacer.stop();
    this.#uplink?.close();
    this.#uplink = undefined;
  }
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]!) as IngestConfig;
  const hardStop = setTimeout(() => {
    send({ type: 'error', message: `ran past ${config.maxRunMs} ms` });
    process.exit(1);
  }, config.maxRunMs);
  hardStop.unref();
  const media = await loadMedia(config.media);
  const publishers: Publisher[] = [];
  let closed = 0;
  let stopping = false;
  for (let i = 0; i < config.publishers; i++) {
    const publisher = new Publisher(media);
    const uplink = await openUplink(config, i, media, () => {
      if (!stopping) closed++;
    });
    publisher.start(uplink);
    publishers.push(publisher);
    await new Promise((resolve) => setTimeout(resolve, config.staggerMs));
  }
  send({ type: 'publishing', connected: publishers.length });
  let windowStart = 0;
  process.on('message', (message: IngestParentMessage) => {
    if (message.type === 'window-start') {
      windowStart = performance.now();
      for (const p of publishers) p.measuring = true;
      return;
    }
    const windowMs = performance.now() - windowStart;
    stopping = true;
    for (const p of publishers) p.stop();
    const sum = (f: (p: Publisher) => number) => publishers.reduce((n, p) => n + f(p), 0);
    const max = (f: (p: Publisher) => number) => Math.max(0, ...publishers.map(f));
    send({
      type: 'result',
      result: {
        windowBytes: sum((p) => p.windowBytes),
        windowTags: sum((p) => p.windowTags),
        windowMs,
        maxLateMs: max((p) => p.maxLateMs),
        maxQueuedBytes: max((p) => p.maxQueuedBytes),
        closed,
      },
    });
    setTimeout(() => process.exit(0), 200);
  });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  setTimeout(() => process.exit(1), 100);
});
