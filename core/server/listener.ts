import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { inject, injectable, multiInject, optional } from 'inversify';
import type { ServiceIdentifier } from 'inversify';
import { WebSocket, WebSocketServer } from 'ws';
import { WsflvError } from '../errors.js';
import type { ConnectionInfo, LiveTransport } from '../live/types.js';
import { CLOSE } from '../live/close.js';
import { LOGGER, type Logger } from '../logger.js';
import { METRICS, type Metrics } from '../metrics.js';
import type { Lifecycle } from '../pipeline/app.js';
import { ADMISSION_GATE, admit, peerIp, whenAdmitted, type Admission, type AdmissionGate, type AdmissionRequest, type Direction } from './admission.js';
import type { ServerConfig } from './config.js';
import { httpStatusFor } from './close.js';
import { connectionInfo, nextConnectionId, peerAddress, type LiveConnection } from './connection.js';
import { HttpPlayer } from './http-player.js';
import { HttpPublisher } from './http-publisher.js';
import { matchRequest, type StreamTarget } from './routes.js';
import { SERVER_CONFIG } from './tokens.js';
import { createHttpListener, ServerStartError } from './http-listener.js';
import { register, type AcceptOptions, type ListenerKind, type PlayerHandler, type PublishHandler, type Registration, type RouteHandler, type Unregister } from './registrations.js';
import { httpDirection, rejectUpgrade, reply } from './replies.js';
import { WebSocketKeepalive } from './keepalive.js';

import { WsPlayer } from './ws-player.js';
import { WsPublisher } from './ws-publisher.js';

export const LIVE_SERVER: ServiceIdentifier<LiveServer> = Symbol.for('wsflv.live-server');

/** The WebSocket subprotocol a publisher offers on `/APP/STREAM.flv` (node-media-server's convention). */
export const PUBLISHER_PROTOCOL = 'publisher';


/** The server a live component was given, or a clear error when the server module is not loaded. */
export function requireServer(server: LiveServer | undefined, component: string): LiveServer {
  if (!server) throw new WsflvError('WSFLV_ERR_NO_SERVER', `\`${component}\` needs the live server: load serverModule (core/server/module.ts) with the components`);
  return server;
}


/**
 * The one HTTP/WebSocket listener: publishers and players of every pipeline, plus whatever later
 * features mount with route(). Components register what they serve while pipelines are built, before
 * start(); a transport nobody registered for is answered 404, as is a path nobody mounted.
 *
 * Answers, all defined: malformed stream URL or name 400, nothing serving it 404, wrong method 405,
 * too many connections or streams 503 / close 1013, slow
 * request headers 408, oversized headers 431, text message from a publisher close 1003, oversized
 * WebSocket message close 1009, peer silent through a keep-alive round close (cut).
 */
@injectable()
export class LiveServer implements Lifecycle {
  readonly name = 'live-server';
  readonly config: ServerConfig;
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #publishErrors;
  readonly #openConnections;
  /** Access control (core/access), asked before a connection is handed over: see admission.ts. */
  readonly #gates: readonly AdmissionGate[];

  readonly #publishers: Record<ListenerKind, Registration<PublishHandler>[]> = { ws: [], http: [] };
  readonly #players: Record<ListenerKind, Registration<PlayerHandler>[]> = { ws: [], http: [] };
  readonly #routes: { method: string; prefix: string; handler: RouteHandler }[] = [];

  readonly #connections = new Map<string, LiveConnection>();
  /** Publishers connected now: the streams limit counts them (who may publish a key is the registry's call). */
  #publisherCount = 0;
  /** Sockets handed to a player or publisher: a late parser error there must not write an HTTP answer into the stream. */
  readonly #claimed = new WeakSet<Duplex>();
  readonly #sockets = new Set<Socket>();
  readonly #keepalive: WebSocketKeepalive;

  // Listeners that live as long as a connection are shared by every connection (`this` is the emitter)
  // rather than closures made per connection: memory per player is a budget.
  readonly #onSocketClose: (this: Socket) => void;
  readonly #onUpgradeSocketError: (error: Error) => void;

  #server: Server | undefined;
  #wss: WebSocketServer | undefined;
  #stopping = false;

  constructor(
    @inject(SERVER_CONFIG) config: ServerConfig,
    @inject(LOGGER) logger: Logger,
    @inject(METRICS) metrics: Metrics,
    @multiInject(ADMISSION_GATE) @optional() gates: AdmissionGate[] = [],
  ) {
    this.config = config;
    this.#gates = gates ?? [];
    this.#logger = logger.child({ component: 'live-server' });
    this.#metrics = metrics;
    this.#publishErrors = metrics.counter('wsflv_publish_errors_total', 'Publishers closed by the server for a problem (bad FLV 1007, tag too big 1009, idle 4408, busy 4409...), by close code', ['code']);
    this.#openConnections = metrics.gauge('wsflv_server_connections', 'Live connections open now', ['role', 'transport']);
    this.#keepalive = new WebSocketKeepalive(this.#logger, metrics);
    const sockets = this.#sockets;
    const log = this.#logger;
    this.#onSocketClose = function () {
      sockets.delete(this);
    };
    this.#onUpgradeSocketError = (error) => log.debug({ err: error }, 'upgrade socket error');
  }

  get #tls(): boolean {
    return this.config.tls !== undefined;
  }

  /** Take publishers arriving over `framing`. The first registration whose apps match gets each one. */
  acceptPublishers(framing: ListenerKind, handler: PublishHandler, options: AcceptOptions = {}): Unregister {
    return register(this.#publishers[framing], handler, options);
  }

  /** Take players arriving over `framing`. The first registration whose apps match gets each one. */
  acceptPlayers(framing: ListenerKind, handler: PlayerHandler, options: AcceptOptions = {}): Unregister {
    return register(this.#players[framing], handler, options);
  }

  /**
   * Mount a handler for HTTP requests whose path is `prefix` or below it (`/api` takes `/api` and
   * `/api/streams`; `/` takes everything). `method` is an HTTP method or `*`. The longest prefix wins;
   * stream URLs (`*.flv`, `/publish`, `/play`) are never routed here.
   */
  route(method: string, prefix: string, handler: RouteHandler): Unregister {
    if (!prefix.startsWith('/')) throw new TypeError(`route prefix must start with /, got ${JSON.stringify(prefix)}`);
    const entry = { method: method.toUpperCase(), prefix: prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix, handler };
    this.#routes.push(entry);
    this.#routes.sort((a, b) => b.prefix.length - a.prefix.length);
    return () => {
      const at = this.#routes.indexOf(entry);
      if (at >= 0) this.#routes.splice(at, 1);
    };
  }

  /** The bound address once started (the actual port when configured with port 0). */
  address(): AddressInfo | undefined {
    const address = this.#server?.address();
    return address && typeof address === 'object' ? address : undefined;
  }

  /** Base URL for `scheme` ('ws' or 'http'; `s` is added under TLS), e.g. `ws://127.0.0.1:8080`. */
  url(scheme: 'ws' | 'http' = 'http'): string {
    const address = this.address();
    if (!address) throw new Error('the live server is not listening');
    const unspecified = address.address === '0.0.0.0' || address.address === '::';
    const host = unspecified ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${scheme}${this.#tls ? 's' : ''}://${host}:${address.port}`;
  }

  /** Live publishers and players right now. */
  connections(): LiveConnection[] {
    return [...this.#connections.values()];
  }

  async start(): Promise<void> {
    if (this.#server) return;
    // A headless file-to-file run loads this service too: it must not take a port nobody asked for.
    const registered = this.#routes.length + (['ws', 'http'] as const).reduce((n, f) => n + this.#publishers[f].length + this.#players[f].length, 0);
    if (registered === 0) {
      this.#logger.debug('no live component or route registered: not listening');
      return;
    }
    const { timeouts, limits } = this.config;
    const server = await createHttpListener(this.config);
    // closeTimeout is in ws 8.18+ but not yet in its type definitions.
    this.#wss = new WebSocketServer(<ConstructorParameters<typeof WebSocketServer>[0]>{
      noServer: true,
      maxPayload: limits.messageBytes,
      perMessageDeflate: false,
      clientTracking: false,
      closeTimeout: timeouts.closeMs,
      handleProtocols: (protocols, req) => (directions.get(req) === 'publish' && protocols.has(PUBLISHER_PROTOCOL) ? PUBLISHER_PROTOCOL : false),
    });
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', this.#onSocketClose);
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => this.#onClientError(error, socket));
    server.on('tlsClientError', (error: Error) => this.#logger.debug({ err: error }, 'TLS handshake failed'));
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        reject(new ServerStartError(`cannot listen on ${this.config.host}:${this.config.port}: ${error.message}`, error));
      };
      server.once('error', onError);
      server.listen(this.config.port, this.config.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (error: Error) => this.#logger.error({ err: error }, 'listener error'));
    this.#server = server;
    this.#stopping = false;
    this.#keepalive.start(this.config.keepalive.intervalMs);
    const served = (['ws', 'http'] as const).flatMap((f) => [
      ...(this.#publishers[f].length ? [`publish/${f}`] : []),
      ...(this.#players[f].length ? [`play/${f}`] : []),
    ]);
    this.#logger.info({ url: this.url('http'), served }, 'listening');
  }

  /** A drain began: new publishers and players are refused (503, close 1001) while the pipelines wind down. */
  drain(): void {
    if (this.#server) this.#stopping = true;
  }

  /**
   * Refuse new connections, close every live one (publishers and players: 1001 / end of response),
   * then cut what is still open once the close handshake had its time.
   */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#stopping = true;
    this.#keepalive.stop();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const connection of this.#connections.values()) connection.close(CLOSE.goingAway, SHUTTING_DOWN);
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.config.timeouts.closeMs)))]);
    clearTimeout(timer);
    for (const socket of this.#sockets) socket.destroy();
    await closed;
    this.#server = undefined;
    this.#wss?.close();
    this.#wss = undefined;
  }

  // ---- HTTP ----

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    res.on('error', (error) => this.#logger.debug({ err: error }, 'response error'));
    const match = matchRequest(req.url);
    if (match.kind === 'invalid') return reply(res, 400, match.message);
    if (match.kind === 'other') return this.#onRoute(req, res, match.pathname, match.query);
    const { target } = match;
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, OPTIONS',
        'Access-Control-Allow-Headers': '*',
        'Access-Control-Max-Age': '86400',
      });
      res.end();
      return;
    }
    const direction = httpDirection(target, method);
    if (!direction) {
      const allow = target.convention === 'publish' ? 'POST, PUT, OPTIONS' : target.convention === 'play' ? 'GET, HEAD, OPTIONS' : 'GET, HEAD, POST, PUT, OPTIONS';
      return reply(res, 405, `method ${method} not allowed on a stream URL`, { Allow: allow });
    }
    const transport: LiveTransport = this.#tls ? 'https' : 'http';
    // Draining: the pipelines may already have stopped taking streams, and "not found" would be wrong.
    if (this.#stopping) {
      const { status, reason } = this.#refusal(direction, target)!;
      return reply(res, status, reason);
    }
    const registration = this.#registrationFor(direction, 'http', target);
    if (!registration) return reply(res, 404, `no pipeline ${direction === 'publish' ? 'accepts HTTP publishers' : 'serves HTTP players'} for ${target.key}`);
    if (!res.socket) return reply(res, 400, 'pipelined requests cannot open a stream');
    const early = this.#refusal(direction, target);
    if (early) return reply(res, early.status, early.reason);
    const id = nextConnectionId(direction === 'publish' ? 'publisher' : 'player');
    this.#admit({ direction, method, framing: 'http', transport, target, id, headers: req.headers }, req.socket, (admission) => {
      // Gates may have taken their time (a hook): the peer may have gone, the server may be full now.
      if (req.socket.destroyed) return admission.release(false);
      const refusal = admission.refusal ?? this.#refusal(direction, target);
      if (refusal || method === 'HEAD') admission.release(false);
      if (refusal) return reply(res, refusal.status, refusal.reason);
      if (method === 'HEAD') {
        const refused = registration.probe?.(target.key);
        if (refused) return reply(res, httpStatusFor(refused.code), refused.reason);
        res.writeHead(200, { 'Content-Type': 'video/x-flv', 'Cache-Control': 'no-cache, no-store, must-revalidate', 'Access-Control-Allow-Origin': '*' });
        res.end();
        return;
      }
      const socket = req.socket;
      this.#claimed.add(socket);
      if (this.config.keepalive.intervalMs > 0) socket.setKeepAlive(true, this.config.keepalive.intervalMs);
      const connection =
        direction === 'publish'
          ? new HttpPublisher(connectionInfo('publisher', target, transport, socket, id), req, res)
          : new HttpPlayer(connectionInfo('player', target, transport, socket, id), req, res);
      this.#track(connection, admission);
      this.#handOver(registration.handler, connection);
    });
  }

  #onRoute(req: IncomingMessage, res: ServerResponse, pathname: string, query: Record<string, string>): void {
    const method = req.method ?? 'GET';
    const under = this.#routes.filter((r) => r.prefix === '/' || pathname === r.prefix || pathname.startsWith(`${r.prefix}/`));
    if (under.length === 0) return reply(res, 404, `nothing at ${pathname}`);
    const route = under.find((r) => r.method === '*' || r.method === method || (method === 'HEAD' && r.method === 'GET'));
    if (!route) return reply(res, 405, `method ${method} not allowed on ${pathname}`, { Allow: [...new Set(under.map((r) => r.method))].join(', ') });
    const failed = (error: unknown) => {
      this.#logger.error({ err: error, path: pathname }, 'route handler failed');
      if (!res.headersSent) reply(res, 500, 'internal error');
      else res.destroy();
    };
    try {
      const result = route.handler(req, res, { pathname, query });
      if (result instanceof Promise) result.then(undefined, failed);
    } catch (error) {
      failed(error);
    }
  }

  #onClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    // Under TLS, node hands handshake failures (a timeout, a bad ClientHello) here too: there is no
    // session to answer over, and an answer written into the unfinished handshake would keep the socket.
    const tlsFailure = /^ERR_(TLS|SSL)_/.test(error.code ?? '');
    if (tlsFailure || this.#claimed.has(socket) || !socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    this.#logger.debug({ code: error.code, status }, 'bad request from client');
    const body = `${STATUS_CODES[status]}\n`;
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  }

  // ---- WebSocket ----

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', this.#onUpgradeSocketError);
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return rejectUpgrade(socket, 400, 'only WebSocket upgrades are served');
    const match = matchRequest(req.url);
    if (match.kind === 'invalid') return rejectUpgrade(socket, 400, match.message);
    if (match.kind === 'other') return rejectUpgrade(socket, 404, `no WebSocket endpoint at ${match.pathname}`);
    const { target } = match;
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const direction: Direction =
      target.convention === 'path' ? (offered.includes(PUBLISHER_PROTOCOL) ? 'publish' : 'play') : target.convention;
    directions.set(req, direction);
    if (this.#stopping) return this.#refuseUpgrade(req, socket, head, this.#refusal(direction, target)!);
    const handler = this.#registrationFor(direction, 'ws', target)?.handler;
    if (!handler) {
      return rejectUpgrade(socket, 404, `no pipeline ${direction === 'publish' ? 'accepts WebSocket publishers' : 'serves WebSocket players'} for ${target.key}`);
    }
    const tcp = socket as Socket;
    const transport: LiveTransport = this.#tls ? 'wss' : 'ws';
    const id = nextConnectionId(direction === 'publish' ? 'publisher' : 'player');
    // Access control answers before the handshake does: nothing is accepted from a peer it refuses.
    this.#admit({ direction, method: req.method ?? 'GET', framing: 'ws', transport, target, id, headers: req.headers }, tcp, (admission) => {
      if (socket.destroyed || !this.#wss) {
        admission.release(false);
        socket.destroy();
        return;
      }
      // A handshake ws itself refuses (bad key or version) never calls back: the admission ends with the socket.
      const abandoned = () => admission.release(false);
      socket.once('close', abandoned);
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        socket.off('close', abandoned);
        this.#accepted(ws, tcp, direction, connectionInfo(direction === 'publish' ? 'publisher' : 'player', target, transport, tcp, id), admission, handler);
      });
    });
  }

  /** Complete the handshake only to close with `refusal`'s code: a browser sees a close code, never a failed handshake's status. */
  #refuseUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, refusal: { code: number; reason: string }): void {
    if (!this.#wss) return void socket.destroy();
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', this.#keepalive.onError);
      ws.close(refusal.code, refusal.reason);
    });
  }

  /**
   * After the WebSocket handshake: refuse (with a close code) or hand the connection over. Nothing made
   * here outlives the call but the connection itself (a closure would keep the whole scope).
   */
  #accepted(ws: WebSocket, tcp: Socket, direction: Direction, info: ConnectionInfo, admission: Admission, handler: PublishHandler | PlayerHandler): void {
    ws.on('error', this.#keepalive.onError);
    // Refused after the handshake on purpose: a browser sees only the close code and reason, never
    // the status of a failed handshake.
    const refusal = admission.refusal ?? this.#refusal(direction, info);
    if (refusal) {
      admission.release(false);
      ws.close(refusal.code, refusal.reason);
      return;
    }
    this.#claimed.add(tcp);
    const connection = direction === 'publish' ? new WsPublisher(info, ws) : new WsPlayer(info, ws, tcp);
    this.#keepalive.watch(ws, connection);
    this.#track(connection, admission);
    this.#handOver(handler, connection);
  }

  // ---- bookkeeping ----

  /** Ask the admission gates, then `open` with their answer: at once when every gate answers at once. */
  #admit(request: Omit<AdmissionRequest, 'address' | 'ip'>, socket: Socket, open: (admission: Admission) => void): void {
    const full: AdmissionRequest = { ...request, address: peerAddress(socket), ip: peerIp(socket.remoteAddress) };
    const admission = this.#gates.length > 0 ? admit(this.#gates, full, this.#logger) : { release: () => undefined };
    whenAdmitted(
      admission,
      (answer) => {
        if (answer.refusal) this.#metrics.counter('wsflv_server_refused_total', 'Live connections refused, by reason', ['reason']).labels(answer.refusal.reason).inc();
        open(answer);
      },
      (error) => {
        this.#logger.error({ err: error, id: request.id }, 'opening an admitted connection failed');
        socket.destroy();
      },
    );
  }

  #registrationFor(direction: Direction, framing: ListenerKind, target: StreamTarget): Registration<PublishHandler | PlayerHandler> | undefined {
    const registrations: Registration<PublishHandler | PlayerHandler>[] = direction === 'publish' ? this.#publishers[framing] : this.#players[framing];
    return registrations.find((r) => (!r.apps || r.apps.has(target.app)) && (!r.keys || r.keys(target.key)));
  }

  /** Why a new connection cannot be taken now, as an HTTP status and a close code. */
  #refusal(direction: Direction, target: { key: string }): { status: number; code: number; reason: string } | undefined {
    const refuse = (status: number, code: number, reason: string) => {
      this.#metrics.counter('wsflv_server_refused_total', 'Live connections refused, by reason', ['reason']).labels(reason).inc();
      return { status, code, reason };
    };
    if (this.#stopping) return refuse(503, CLOSE.goingAway, SHUTTING_DOWN);
    const { limits } = this.config;
    if (this.#connections.size >= limits.connections) return refuse(503, CLOSE.tryAgainLater, 'too many connections');
    if (direction === 'publish' && this.#publisherCount >= limits.streams) return refuse(503, CLOSE.tryAgainLater, 'too many streams');
    return undefined;
  }

  /** Keep `connection` for the API and shutdown until it closes; then give back what admission holds for it. */
  #track(connection: LiveConnection, admission: Admission): void {
    const { role, transport } = connection;
    this.#connections.set(connection.id, connection);
    if (role === 'publisher') this.#publisherCount++;
    this.#openConnections.inc({ role, transport });
    this.#logger.info({ id: connection.id, key: connection.key, transport, address: connection.address }, `${role} connected`);
    connection.closed.add(() => this.#untrack(connection, admission));
  }

  #untrack(connection: LiveConnection, admission: Admission): void {
    admission.release(true);
    const { role, transport } = connection;
    this.#openConnections.dec({ role, transport });
    this.#connections.delete(connection.id);
    if (role === 'publisher') this.#publisherCount--;
    const { code, reason, by } = connection.closed.closing ?? { code: 1006, reason: '', by: 'peer' };
    this.#logger.info({ id: connection.id, key: connection.key, transport, address: connection.address, code, reason, by }, `${role} disconnected`);
    if (role === 'publisher' && by === 'server' && !ORDINARY_CLOSES.has(code)) {
      this.#publishErrors.labels(String(code)).inc();
    }
  }

  /** A throwing handler costs one connection, never the process. */
  #handOver(handler: PublishHandler | PlayerHandler, connection: (WsPublisher | HttpPublisher) | (WsPlayer | HttpPlayer)): void {
    try {
      if (connection.role === 'publisher') (handler as PublishHandler)(connection);
      else (handler as PlayerHandler)(connection);
    } catch (error) {
      this.#logger.error({ err: error }, 'connection handler failed');
      connection.close(CLOSE.internalError, 'internal error');
    }
  }
}

const SHUTTING_DOWN = 'server shutting down';

/** Publisher closes that are no error: the stream ended, the server is stopping, an operator ended it. */
const ORDINARY_CLOSES: ReadonlySet<number> = new Set([CLOSE.normal, CLOSE.goingAway, CLOSE.streamEnded]);

/** What an upgrade request asked for, read back by handleProtocols (which only sees the request). */
const directions = new WeakMap<IncomingMessage, Direction>();





