import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { inject, injectable, multiInject, optional, type ServiceIdentifier } from 'inversify';
import { registerFraming } from '../live/framing.js';
import type { LiveTransport, PlayerTransport, PublishConnection } from '../live/types.js';
import { CLOSE } from '../live/close.js';
import { LOGGER, type Logger } from '../logger.js';
import { METRICS, type Metrics } from '../metrics.js';
import type { Lifecycle } from '../pipeline/app.js';
import { admit, ADMISSION_GATE, peerIp, type AdmissionGate } from '../server/admission.js';
import type { ServerConfig } from '../server/config.js';
import { nextConnectionId, peerAddress } from '../server/connection.js';
import { ServerStartError } from '../server/http-listener.js';
import type { AcceptOptions, Unregister } from '../server/registrations.js';
import { isValidName } from '../server/routes.js';
import { SERVER_CONFIG } from '../server/tokens.js';
import { RtmpPlayer, RtmpPublisher } from './connections.js';
import { rtmpFramer } from './flv-bridge.js';
import { RtmpSession, type StreamRequest } from './session.js';

export const RTMP_SERVER: ServiceIdentifier<RtmpServer> = Symbol.for('wsflv.rtmp-server');

/** The framing name RTMP players use: tags chunked at the server's outgoing chunk size. */
export function rtmpFramingName(chunkSize: number): string {
  return `rtmp/${chunkSize}`;
}

interface Registration<H> {
  handler: H;
  options: AcceptOptions;
}

/**
 * The RTMP listener (`server.rtmp`): its own TCP port, RTMPS when `tls` is set. Publish sources and
 * play sinks register here as they do with the HTTP/WebSocket listener; each client's publish or
 * play request goes through the same admission gates (signed URLs, limits, hooks) with the client's
 * address, and only then is `NetStream.Publish.Start` / `Play.Start` sent. With nothing registered,
 * or `server.rtmp` absent, it does not listen.
 */
@injectable()
export class RtmpServer implements Lifecycle {
  readonly name = 'rtmp-server';
  readonly #config: ServerConfig;
  readonly #logger: Logger;
  readonly #gates: AdmissionGate[];
  readonly #publishers: Registration<(c: PublishConnection) => void>[] = [];
  readonly #players: Registration<(p: PlayerTransport) => void>[] = [];
  readonly #sessions = new Set<RtmpSession>();
  readonly #publisherCount = { value: 0 };
  readonly #connections;
  readonly #protocolErrors;
  #server: Server | undefined;
  #stopping = false;

  constructor(
    @inject(SERVER_CONFIG) config: ServerConfig,
    @inject(LOGGER) logger: Logger,
    @inject(METRICS) metrics: Metrics,
    @multiInject(ADMISSION_GATE) @optional() gates: AdmissionGate[] = [],
  ) {
    this.#config = config;
    this.#logger = logger.child({ component: 'rtmp-server' });
    this.#gates = gates ?? [];
    this.#connections = metrics.gauge('wsflv_rtmp_connections', 'RTMP connections open now (handshaking and connected)');
    this.#protocolErrors = metrics.counter('wsflv_rtmp_protocol_errors_total', 'RTMP connections closed for a protocol error or a bound, by code', ['code']);
    if (config.rtmp) registerFraming(this.framing, rtmpFramer(config.rtmp.chunkSize));
  }

  /** Whether `server.rtmp` turns RTMP on. */
  get enabled(): boolean {
    return this.#config.rtmp !== undefined;
  }

  get framing(): string {
    return rtmpFramingName(this.#config.rtmp?.chunkSize ?? 60_000);
  }

  acceptPublishers(handler: (connection: PublishConnection) => void, options: AcceptOptions = {}): Unregister {
    return register(this.#publishers, handler, options);
  }

  acceptPlayers(handler: (player: PlayerTransport) => void, options: AcceptOptions = {}): Unregister {
    return register(this.#players, handler, options);
  }

  /** `rtmp://127.0.0.1:PORT` (or rtmps) once listening. */
  url(): string {
    const address = this.#server?.address();
    if (!address || typeof address === 'string') throw new Error('the RTMP server is not listening');
    const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
    return `${this.#config.rtmp?.tls ? 'rtmps' : 'rtmp'}://${host}:${address.port}`;
  }

  async start(): Promise<void> {
    const rtmp = this.#config.rtmp;
    if (!rtmp || this.#server || this.#publishers.length + this.#players.length === 0) return;
    let server: Server;
    if (rtmp.tls) {
      if (!this.#config.tls) throw new ServerStartError('server.rtmp.tls needs the key and certificate of server.tls');
      let pem: [Buffer, Buffer];
      try {
        pem = await Promise.all([readFile(this.#config.tls.key), readFile(this.#config.tls.cert)]);
      } catch (error) {
        throw new ServerStartError(`cannot read the TLS key or certificate for RTMPS: ${(error as Error).message}`, error);
      }
      server = createTlsServer({ key: pem[0], cert: pem[1], handshakeTimeout: rtmp.handshakeTimeoutMs }, (socket) => this.#connection(socket));
      server.on('tlsClientError', (error: Error) => this.#logger.debug({ err: error }, 'RTMPS: TLS handshake failed'));
    } else {
      server = createServer({ noDelay: true }, (socket) => this.#connection(socket));
    }
    const host = rtmp.host ?? this.#config.host;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(new ServerStartError(`cannot listen for RTMP on ${host}:${rtmp.port}: ${error.message}`, error)));
      server.listen(rtmp.port, host, () => resolve());
    });
    server.on('error', (error) => this.#logger.error({ err: error }, 'RTMP listener error'));
    this.#server = server;
    this.#logger.info({ url: this.url() }, 'listening');
  }

  drain(): void {
    this.#stopping = true;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    const server = this.#server;
    this.#server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const session of this.#sessions) session.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#config.timeouts.closeMs)))]);
    clearTimeout(timer);
    for (const session of this.#sessions) session.socket.destroy();
    await closed;
  }

  #connection(socket: Socket): void {
    const rtmp = this.#config.rtmp!;
    if (this.#stopping || this.#sessions.size >= this.#config.limits.connections) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.#connections.inc();
    let publisher: RtmpPublisher | undefined;
    let player: RtmpPlayer | undefined;
    let release: ((opened: boolean) => void) | undefined;
    const finish = () => {
      release?.(true);
      release = undefined;
      if (publisher) {
        this.#publisherCount.value--;
        publisher.ended('peer', CLOSE.normal, 'unpublished');
        publisher = undefined;
      }
      player?.ended();
      player = undefined;
    };
    const session: RtmpSession = new RtmpSession(
      socket,
      {
        request: (s, request) => {
          const outcome = this.#decide(s, request);
          const settle = (result: Awaited<typeof outcome>) => {
            if (!result) return;
            release = result.release;
            if (request.direction === 'publish') {
              publisher = result.connection as RtmpPublisher;
              this.#publisherCount.value++;
              s.acceptPublish();
              result.hand();
            } else {
              player = result.connection as RtmpPlayer;
              s.acceptPlay();
              result.hand();
            }
          };
          if (outcome instanceof Promise) outcome.then(settle, (error) => s.fail(error as Error));
          else settle(outcome);
        },
        media: (_s, message) => publisher?.push(message),
        unpublish: () => finish(),
        closed: (_s, error) => {
          this.#sessions.delete(session);
          this.#connections.dec();
          if (error) {
            const code = (error as { code?: string }).code ?? 'unknown';
            this.#protocolErrors.labels(code).inc();
            this.#logger.warn({ address: peerAddress(socket), code, err: error }, `RTMP connection closed: ${error.message}`);
          }
          finish();
        },
      },
      { chunkSize: rtmp.chunkSize, handshakeTimeoutMs: rtmp.handshakeTimeoutMs, idleTimeoutMs: rtmp.idleTimeoutMs, limits: { maxMessageBytes: rtmp.maxMessageBytes } },
      this.#logger,
    );
    this.#sessions.add(session);
  }

  /**
   * Admission for one request: the registration that serves it, then the gates. Resolves to the
   * connection to hand over (and what the gates hold), or undefined once the client was refused.
   */
  #decide(session: RtmpSession, request: StreamRequest) {
    const publish = request.direction === 'publish';
    const failed = publish ? 'NetStream.Publish.BadName' : 'NetStream.Play.StreamNotFound';
    const refused = (status: string, reason: string) => {
      this.#logger.info({ address: peerAddress(session.socket), app: request.app, stream: request.stream, reason }, `RTMP ${request.direction} refused`);
      session.refuse(status, reason);
      return undefined;
    };
    if (!isValidName(request.app) || !isValidName(request.stream)) return refused(failed, 'app and stream names use A-Z a-z 0-9 _ . -');
    const key = `${request.app}/${request.stream}`;
    const list = publish ? this.#publishers : this.#players;
    const registration = list.find((r) => (!r.options.apps || r.options.apps.includes(request.app)) && (!r.options.keys || r.options.keys(key)));
    if (!registration) return refused(failed, `no pipeline takes RTMP ${request.direction}ers of ${key}`);
    if (this.#stopping) return refused(publish ? 'NetStream.Publish.Failed' : 'NetStream.Play.Failed', 'server shutting down');
    if (publish && this.#publisherCount.value >= this.#config.limits.streams) return refused('NetStream.Publish.Failed', 'too many streams');
    if (!publish) {
      const probe = registration.options.probe?.(key);
      if (probe) return refused('NetStream.Play.StreamNotFound', probe.reason);
    }
    const transport: LiveTransport = this.#config.rtmp?.tls ? 'rtmps' : 'rtmp';
    const role = publish ? 'publisher' : 'player';
    const id = nextConnectionId(role);
    const address = peerAddress(session.socket);
    const target = { app: request.app, stream: request.stream, key, convention: 'path' as const, query: request.query };
    const info = { id, app: request.app, stream: request.stream, key, transport, address, query: request.query };
    const verdict = admit(
      this.#gates,
      { direction: request.direction, method: 'GET', framing: 'rtmp', transport, target, id, address, ip: peerIp(session.socket.remoteAddress), headers: {} },
      this.#logger,
    );
    const settle = (admission: Awaited<typeof verdict>) => {
      if (admission.refusal) {
        const status = admission.refusal.code === CLOSE.unauthorized || admission.refusal.code === CLOSE.forbidden ? (publish ? 'NetStream.Publish.Unauthorized' : 'NetStream.Play.Unauthorized') : publish ? 'NetStream.Publish.Failed' : 'NetStream.Play.Failed';
        return refused(status, admission.refusal.reason);
      }
      if (session.state === 'closed') {
        admission.release(false);
        return undefined;
      }
      const connection = publish ? new RtmpPublisher(info, session) : new RtmpPlayer(info, session, this.framing);
      this.#logger.info({ id, key, address, transport }, `RTMP ${role} connected`);
      return {
        connection,
        release: admission.release,
        hand: () => (publish ? (registration.handler as (c: PublishConnection) => void)(connection as RtmpPublisher) : (registration.handler as (p: PlayerTransport) => void)(connection as RtmpPlayer)),
      };
    };
    return verdict instanceof Promise ? verdict.then(settle) : settle(verdict);
  }
}

function register<H>(list: Registration<H>[], handler: H, options: AcceptOptions): Unregister {
  const entry = { handler, options };
  list.push(entry);
  return () => {
    const at = list.indexOf(entry);
    if (at >= 0) list.splice(at, 1);
  };
}
