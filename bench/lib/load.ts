/**
 * The fan-out load generator, run as a child process of bench/fanout.ts (IPC channel required):
 * one publisher sending an FLV file in real time, one tag per WebSocket message, and N players on raw
 * TCP sockets with a minimal WebSocket client (handshake, pong, close) and FLV tag reader, all on
 * 127.0.0.1. Publisher and players share one clock, so latency is receive time minus send time of the
 * same (kind, dts).
 *
 * Protocol with the parent: argv[2] is a JSON LoadConfig. The child sends {type:'publishing'} once the
 * publisher is streaming and starts the players when the parent answers {type:'join'}; it sends
 * {type:'joined'} once every player has connected and seen its first keyframe
 * (or the join deadline passed); the parent sends {type:'window-start'} and {type:'window-end'}; the
 * child answers the latter with {type:'result'} and exits. Everything it starts is bounded: players by
 * count, the whole process by `maxRunMs` (it exits by itself).
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { loadMedia, type LoadedMedia } from './media.js';
import { TagPacer } from './pacer.js';
import { Samples, summarize, type Summary } from './stats.js';
import { FLV_AUDIO, FLV_VIDEO, isAudioConfig, isVideoConfig, isVideoKeyframe, maskedFrame, WsFlvReader, type WsFlvHandlers } from './ws-flv-reader.js';

export interface LoadConfig {
  port: number;
  /** Where the publisher connects, when not `port` (a cluster: publish on one node, play on another). */
  publishPort?: number;
  /** Path players and the publisher use, e.g. `/live/bench.flv`. */
  path: string;
  media: string;
  players: number;
  /** Extra players that complete the handshake and then never read (socket paused). */
  stalled: number;
  connectPerSec: number;
  /** Record latency for one tag in this many (spread over players). */
  sampleEvery: number;
  joinTimeoutMs: number;
  maxRunMs: number;
}

export interface LoadResult {
  players: number;
  connected: number;
  connectFailures: Record<string, number>;
  /** Players closed by the server (or their socket), by close code or reason. */
  closed: Record<string, number>;
  started: number;
  ttfkMs: Summary;
  latencyMs: Summary;
  latencyVideoMs: Summary;
  /** Players that received every video frame after their first keyframe (no gaps). */
  playersWithMissing: number;
  missingFrames: number;
  /** Players still open at the end whose newest frame was within one second of the publisher's newest. */
  keptUp: number;
  keptUpWithMissing: number;
  reordered: number;
  unmatched: number;
  windowMs: number;
  windowBytes: number;
  windowTags: number;
  /** Publisher: tags sent in the window, and how late the worst send was against its due time. */
  sentTags: number;
  sentBytes: number;
  maxSendLateMs: number;
  /** The generator itself: CPU fraction of one core during the window, and its event loop delay. */
  generatorCpu: number;
  /** The kernel's share of it (receiving on loopback sockets). */
  generatorSystemCpu: number;
  loopDelayMs: { p50: number; p99: number; max: number };
  stalledReport?: { bytesBuffered: number[]; closeCodes: string[] };
}

export type ParentMessage = { type: 'join' } | { type: 'window-start' } | { type: 'window-end' };
export type ChildMessage =
  | { type: 'publishing' }
  | { type: 'joined'; connected: number; started: number; failed: number }
  | { type: 'result'; result: LoadResult }
  | { type: 'error'; message: string };

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** The one read buffer of every player socket (see Player.connect). */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

function send(message: ChildMessage): void {
  process.send?.(message);
}

// ---------------------------------------------------------------------------------------------------
// Publisher: tag send times by (kind, dts)
// ---------------------------------------------------------------------------------------------------

class Publisher {
  /** Send time (performance.now) per video / audio sequence number, and sequence by dts. */
  readonly videoSentAt: number[] = [];
  readonly audioSentAt: number[] = [];
  readonly videoSeq = new Map<number, number>();
  readonly audioSeq = new Map<number, number>();
  sentTags = 0;
  sentBytes = 0;
  maxLateMs = 0;
  #ws: WebSocket | undefined;
  readonly #pacer: TagPacer;

  constructor(private readonly media: LoadedMedia) {
    this.#pacer = new TagPacer(media, (bytes, tag, dts, lateMs, now) => {
      const ws = this.#ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return false;
      if (lateMs > this.maxLateMs) this.maxLateMs = lateMs;
      if (tag.kind === 'video') {
        this.videoSeq.set(dts, this.videoSentAt.length);
        this.videoSentAt.push(now);
      } else {
        this.audioSeq.set(dts, this.audioSentAt.length);
        this.audioSentAt.push(now);
      }
      ws.send(bytes);
      this.sentTags++;
      this.sentBytes += bytes.length;
    });
  }

  start(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, 'publisher', { perMessageDeflate: false });
      this.#ws = ws;
      ws.on('open', () => {
        ws.send(this.media.init);
        this.#pacer.start();
        resolve();
      });
      ws.on('error', (error) => reject(error));
      ws.on('close', (code, reason) => {
        if (this.#pacer.running) send({ type: 'error', message: `publisher closed by the server: ${code} ${reason.toString()}` });
        this.stop();
      });
    });
  }

  stop(): void {
    this.#pacer.stop();
    this.#ws?.terminate();
  }
}

// ---------------------------------------------------------------------------------------------------
// Players
// ---------------------------------------------------------------------------------------------------

interface Shared {
  publisher: Publisher;
  sampleEvery: number;
  inWindow: boolean;
  windowBytes: number;
  windowTags: number;
  latency: Samples;
  latencyVideo: Samples;
  unmatched: number;
}

class Player implements WsFlvHandlers {
  socket: Socket | undefined;
  connectAt = 0;
  open = false;
  closedBy: string | undefined;
  failure: string | undefined;
  ttfk = NaN;
  lastVideoSeq = -1;
  missing = 0;
  reordered = 0;
  /** Set before each chunk is parsed: the receive time of every tag in it. */
  now = 0;
  #reader: WsFlvReader | undefined;
  /** Stalled players: bytes that came with the handshake response, parsed when they finally read. */
  #held: Buffer | undefined;

  constructor(
    readonly index: number,
    private readonly shared: Shared,
    readonly stalled: boolean,
  ) {}

  connect(port: number, path: string, timeoutMs: number, onDone: () => void): void {
    this.connectAt = performance.now();
    const key = randomBytes(16).toString('base64');
    let head: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (failure?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (failure) {
        this.failure = failure;
        socket.destroy();
      }
      onDone();
    };
    const timer = setTimeout(() => finish('handshake timeout'), timeoutMs);
    // Reads go straight into one buffer shared by every player (no stream machinery, no allocation
    // per read): each chunk is parsed synchronously before the next read can reuse the buffer.
    const onread = (nread: number): boolean => {
      const chunk = READ_BUFFER.subarray(0, nread);
      if (this.#reader) {
        this.now = performance.now();
        if (this.shared.inWindow && !this.stalled) this.shared.windowBytes += nread;
        this.drained += nread;
        this.#reader.push(chunk);
        return true;
      }
      // Handshake response (copied: the buffer is reused).
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 8192) finish('oversized handshake response');
        return true;
      }
      const text = head.subarray(0, end).toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      if (status !== '101') {
        finish(`HTTP ${status ?? '?'}`);
        return false;
      }
      const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
      const acceptLine = text.split('\r\n').find((line) => line.toLowerCase().startsWith('sec-websocket-accept:'));
      if (acceptLine?.slice(acceptLine.indexOf(':') + 1).trim() !== accept) {
        finish('bad Sec-WebSocket-Accept');
        return false;
      }
      this.open = true;
      finish();
      this.#reader = new WsFlvReader(this);
      const rest = head.subarray(end + 4);
      if (this.stalled) {
        // Never reads again until drain(): what came with the handshake waits here.
        this.#held = rest;
        return false;
      }
      if (rest.length > 0) {
        this.now = performance.now();
        this.#reader.push(rest);
      }
      return true;
    };
    const socket = connect({ host: '127.0.0.1', port, onread: { buffer: READ_BUFFER, callback: onread } });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!done) finish(error.code ?? error.message);
      else if (this.open && !this.closedBy) this.closedBy = `socket ${error.code ?? error.message}`;
    });
    socket.on('close', () => {
      if (!done) finish('closed during handshake');
      if (this.open && !this.closedBy) this.closedBy = 'socket closed';
      this.open = false;
    });
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  }

  /** Bytes read since the handshake (stalled players: by drain()). */
  drained = 0;

  /** Stalled players only: start reading now; resolves with the bytes read within `ms`. */
  drain(ms: number): Promise<number> {
    return new Promise((resolve) => {
      const socket = this.socket;
      if (!socket || !this.#reader) return resolve(0);
      this.drained = 0;
      if (this.#held && this.#held.length > 0) {
        this.drained += this.#held.length;
        this.#reader.push(this.#held);
      }
      if (!socket.destroyed) socket.resume();
      setTimeout(() => resolve(this.drained), ms);
    });
  }

  tag(type: number, dts: number, _size: number, b0: number, b1: number): void {
    const shared = this.shared;
    const pub = shared.publisher;
    if (type === FLV_VIDEO) {
      if (isVideoConfig(b0, b1)) return;
      const seq = pub.videoSeq.get(dts);
      if (seq === undefined) {
        shared.unmatched++;
        return;
      }
      if (this.lastVideoSeq < 0) {
        if (!isVideoKeyframe(b0)) return;
        this.ttfk = this.now - this.connectAt;
        this.lastVideoSeq = seq;
      } else {
        const gap = seq - this.lastVideoSeq - 1;
        if (gap > 0) this.missing += gap;
        else if (gap < 0) this.reordered++;
        if (seq > this.lastVideoSeq) this.lastVideoSeq = seq;
      }
      if (shared.inWindow) {
        shared.windowTags++;
        if ((seq + this.index) % shared.sampleEvery === 0) {
          const latency = this.now - pub.videoSentAt[seq]!;
          shared.latency.push(latency);
          shared.latencyVideo.push(latency);
        }
      }
    } else if (type === FLV_AUDIO) {
      if (isAudioConfig(b0, b1)) return;
      const seq = pub.audioSeq.get(dts);
      if (seq === undefined) {
        shared.unmatched++;
        return;
      }
      if (shared.inWindow) {
        shared.windowTags++;
        if (this.lastVideoSeq >= 0 && (seq + this.index) % shared.sampleEvery === 0) shared.latency.push(this.now - pub.audioSentAt[seq]!);
      }
    }
  }

  ping(payload: Buffer): void {
    this.socket?.write(maskedFrame(0xa, payload));
  }

  close(code: number, reason: string): void {
    this.closedBy ??= `${code}${reason ? ` ${reason}` : ''}`;
    const socket = this.socket;
    if (socket && !socket.destroyed) {
      const payload = Buffer.alloc(2);
      payload.writeUInt16BE(code === 1005 ? 1000 : code);
      socket.end(maskedFrame(0x8, payload));
    }
  }

  error(message: string): void {
    this.closedBy ??= `protocol: ${message}`;
    this.socket?.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as LoadConfig;
  const hardStop = setTimeout(() => {
    send({ type: 'error', message: `load generator hit its ${config.maxRunMs} ms limit` });
    process.exit(3);
  }, config.maxRunMs);
  hardStop.unref();
  process.on('disconnect', () => process.exit(0));

  const media = await loadMedia(config.media);
  const publisher = new Publisher(media);
  const shared: Shared = {
    publisher,
    sampleEvery: config.sampleEvery,
    inWindow: false,
    windowBytes: 0,
    windowTags: 0,
    latency: new Samples(),
    latencyVideo: new Samples(),
    unmatched: 0,
  };
  await publisher.start(`ws://127.0.0.1:${config.publishPort ?? config.port}${config.path}`);
  // Let the server see a keyframe and fill its GOP before anyone plays.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const join = new Promise<void>((resolve) => {
    const onJoin = (message: ParentMessage) => {
      if (message.type !== 'join') return;
      process.off('message', onJoin);
      resolve();
    };
    process.on('message', onJoin);
  });
  send({ type: 'publishing' });
  await join;

  const players: Player[] = [];
  const total = config.players + config.stalled;
  let settled = 0;
  await new Promise<void>((resolve) => {
    const joinDeadline = setTimeout(resolve, total * (1000 / config.connectPerSec) + config.joinTimeoutMs);
    const check = () => {
      const started = players.filter((p) => (p.stalled ? p.open : p.ttfk === p.ttfk) || p.failure !== undefined || p.closedBy !== undefined).length;
      if (settled === total && started === total) {
        clearTimeout(joinDeadline);
        resolve();
      } else setTimeout(check, 50);
    };
    for (let i = 0; i < total; i++) {
      const player = new Player(i, shared, i >= config.players);
      players.push(player);
      setTimeout(() => player.connect(config.port, config.path, config.joinTimeoutMs, () => settled++), (i * 1000) / config.connectPerSec);
    }
    check();
  });
  const active = players.filter((p) => !p.stalled);
  send({
    type: 'joined',
    connected: active.filter((p) => p.open).length,
    started: active.filter((p) => p.ttfk === p.ttfk).length,
    failed: active.filter((p) => p.failure).length,
  });

  const loop = monitorEventLoopDelay({ resolution: 5 });
  let windowStart = 0;
  let cpuStart = process.cpuUsage();
  let sentTagsStart = 0;
  let sentBytesStart = 0;

  process.on('message', async (message: ParentMessage) => {
    if (message.type === 'join') return;
    if (message.type === 'window-start') {
      windowStart = performance.now();
      cpuStart = process.cpuUsage();
      sentTagsStart = publisher.sentTags;
      sentBytesStart = publisher.sentBytes;
      publisher.maxLateMs = 0;
      loop.enable();
      shared.inWindow = true;
      return;
    }
    shared.inWindow = false;
    loop.disable();
    const windowMs = performance.now() - windowStart;
    const cpu = process.cpuUsage(cpuStart);
    const sentTags = publisher.sentTags - sentTagsStart;
    const sentBytes = publisher.sentBytes - sentBytesStart;
    const newestVideo = publisher.videoSentAt.length - 1;
    let stalledReport: LoadResult['stalledReport'];
    const stalled = players.filter((p) => p.stalled);
    if (stalled.length > 0) {
      const bytesBuffered = await Promise.all(stalled.map((p) => p.drain(1500)));
      stalledReport = { bytesBuffered, closeCodes: stalled.map((p) => p.closedBy ?? (p.open ? 'open' : p.failure ?? 'never opened')) };
    }
    publisher.stop();

    const count = (keys: (string | undefined)[]) => {
      const out: Record<string, number> = {};
      for (const k of keys) if (k !== undefined) out[k] = (out[k] ?? 0) + 1;
      return out;
    };
    const keptUp = active.filter((p) => p.open && !p.closedBy && p.lastVideoSeq >= newestVideo - 30);
    const result: LoadResult = {
      players: config.players,
      connected: active.filter((p) => p.failure === undefined).length,
      connectFailures: count(active.map((p) => p.failure)),
      closed: count(active.map((p) => p.closedBy)),
      started: active.filter((p) => p.ttfk === p.ttfk).length,
      ttfkMs: summarize(active.filter((p) => p.ttfk === p.ttfk).map((p) => p.ttfk)),
      latencyMs: summarize(shared.latency.values()),
      latencyVideoMs: summarize(shared.latencyVideo.values()),
      playersWithMissing: active.filter((p) => p.missing > 0).length,
      missingFrames: active.reduce((sum, p) => sum + p.missing, 0),
      keptUp: keptUp.length,
      keptUpWithMissing: keptUp.filter((p) => p.missing > 0).length,
      reordered: active.reduce((sum, p) => sum + p.reordered, 0),
      unmatched: shared.unmatched,
      windowMs,
      windowBytes: shared.windowBytes,
      windowTags: shared.windowTags,
      sentTags,
      sentBytes,
      maxSendLateMs: publisher.maxLateMs,
      generatorCpu: (cpu.user + cpu.system) / 1000 / windowMs,
      generatorSystemCpu: cpu.system / 1000 / windowMs,
      loopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
      stalledReport,
    };
    send({ type: 'result', result });
    for (const p of players) p.socket?.destroy();
    setTimeout(() => process.exit(0), 200);
  });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  setTimeout(() => process.exit(1), 100);
});
