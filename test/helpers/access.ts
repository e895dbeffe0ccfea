/**
 * Access-control tests: a live app taking publishers and players both ways, HTTP clients that can pick
 * their source address (127.0.0.2 is loopback too), a publish-then-play round trip, and a local hook
 * server that records every call and answers as the test says.
 */
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import type { HookBody } from '../../core/access/hooks.js';
import { CLOSE } from '../../core/live/close.js';
import { livePipeline, startLiveApp, type LiveApp } from './live-app.js';
import { delay, fixture, parseFlv, RecordingSocket, sendInPieces, type Closed } from './live-clients.js';

export const PUBLISH_SECRET = 'publish-secret-0123456789';
export const PLAY_SECRET = 'play-secret-abcdefghijklm';

/** Players wait long for a publisher and keep everything; the publisher is never idle-cut in a test. */
const SINK_OPTIONS = 'waitForPublisherMs: 30000, maxQueueMs: 600000, maxQueueBytes: 67108864, graceMs: 0, headerWaitMs: 5000';

/** The live pipeline (publish over ws and http; ws-play, http-play) with `server` lines (indented by two). */
export function startAccessApp(server: string, env: Record<string, string> = {}): Promise<LiveApp> {
  return startLiveApp(livePipeline({ source: 'publish', sourceOptions: 'idleTimeoutMs: 60000', sinks: ['ws-play', 'http-play'], sinkOptions: SINK_OPTIONS, server }), env);
}

export interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  /** The whole body (refusals are short and end at once). */
  body: string;
}

/** One HTTP request from `localAddress` (default 127.0.0.1), read to its end. */
export function httpCall(url: string, options: { method?: string; body?: Buffer; localAddress?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', localAddress: options.localAddress ?? '127.0.0.1', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** An HTTP-FLV player: resolves with the response once its headers arrive; `body` ends with it. */
export function httpPlay(url: string, localAddress = '127.0.0.1'): Promise<{ res: IncomingMessage; body: Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    request(url, { localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      const body = new Promise<Buffer>((done) => {
        res.on('end', () => done(Buffer.concat(chunks)));
        res.on('error', () => done(Buffer.concat(chunks)));
      });
      resolve({ res, body });
    })
      .on('error', reject)
      .end();
  });
}

/** A WebSocket publisher (`publisher` subprotocol on /APP/STREAM.flv) or player from `localAddress`. */
export function wsClient(url: string, role: 'publish' | 'play', localAddress = '127.0.0.1'): RecordingSocket {
  const protocols = role === 'publish' && !url.includes('/publish?') ? ['publisher'] : [];
  return new RecordingSocket(url, protocols, { localAddress });
}

/** The WebSocket was let through the handshake and then closed at once with `expected`, before any media. */
export async function assertWsRefused(t: ExecutionContext, socket: RecordingSocket, expected: Closed, message?: string): Promise<void> {
  const closed = await socket.closed;
  t.deepEqual(closed, expected, message);
  t.is(socket.bytes, 0, message);
}

/**
 * Publish the fixture to `publishUrl` (ws or http by its scheme) while a player on `playUrl` (ws or
 * http) waits: the player must get the fixture's audio and video. Both URLs must be let in.
 */
export async function roundTrip(t: ExecutionContext, publishUrl: string, playUrl: string): Promise<void> {
  const data = fixture();
  let played: Promise<Buffer>;
  if (playUrl.startsWith('ws')) {
    const player = wsClient(playUrl, 'play');
    await player.opened;
    played = player.closed.then((closed) => {
      t.is(closed.code, CLOSE.streamEnded, closed.reason);
      return player.data;
    });
  } else {
    // Headers come once the stream has started: start publishing without waiting for them.
    played = httpPlay(playUrl).then(({ res, body }) => {
      t.is(res.statusCode, 200);
      return body;
    });
    await delay(200);
  }
  if (publishUrl.startsWith('ws')) {
    const publisher = wsClient(publishUrl, 'publish');
    await publisher.opened;
    sendInPieces(publisher.ws, data, () => 64 * 1024);
    publisher.ws.close(CLOSE.normal, 'done');
    t.is((await publisher.closed).code, CLOSE.normal);
  } else {
    const answer = await httpCall(publishUrl, { method: 'POST', body: data });
    t.is(answer.status, 200, answer.body);
  }
  const flv = parseFlv(await played);
  t.true(flv.hasAudio && flv.hasVideo);
  t.true(flv.packets.filter((p) => p.kind !== 'script').length > 100);
}

/** What a hook answers: a status, or `hang` (no answer until the server closes), after an optional wait. */
export type HookReply = number | 'hang' | Promise<number | 'hang'>;

/** A local HTTP server standing in for an application's hooks: `/on_publish`, `/on_play`, ... */
export class HookServer {
  readonly calls: HookBody[] = [];
  reply: (body: HookBody) => HookReply = () => 200;
  readonly #server: Server;
  #waiters: { test: () => boolean; resolve: () => void }[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<HookServer> {
    const server = createServer();
    const hooks = new HookServer(server);
    server.on('request', (req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d));
      req.on('end', async () => {
        const body = JSON.parse(text) as HookBody;
        hooks.calls.push(body);
        hooks.#waiters = hooks.#waiters.filter((w) => (w.test() ? (w.resolve(), false) : true));
        const answer = await hooks.reply(body);
        if (answer === 'hang') return;
        res.writeHead(answer, { 'Content-Type': 'text/plain' }).end('ok');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return hooks;
  }

  url(action: string): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/${action}`;
  }

  /** `server:` lines (indented by two) pointing every hook here. */
  config(extra = ''): string {
    const urls = ['on_publish', 'on_play', 'on_unpublish', 'on_stop'].map((a) => `    ${a}: ${this.url(a)}`).join('\n');
    return `  hooks:\n${urls}\n${extra ? `    ${extra}\n` : ''}`;
  }

  of(action: string): HookBody[] {
    return this.calls.filter((c) => c.action === action);
  }

  /** Resolves once `test` holds for the calls received (checked on every call). */
  until(test: () => boolean, timeoutMs = 20_000): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hook calls so far: ${JSON.stringify(this.calls)}`)), timeoutMs);
      this.#waiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

/** Poll `condition` until it holds. */
export async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await delay(20);
  }
}
