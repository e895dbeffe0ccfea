import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { inject, injectable, optional } from 'inversify';
import { CLOCK, type Clock } from '../clock.js';
import { LIVE_REGISTRY, type LiveRegistry } from '../live/registry.js';
import { CLOSE } from '../live/close.js';
import { unbatchedLoad } from '../live/write-load.js';
import { LOGGER, type Logger } from '../logger.js';
import type { Lifecycle } from '../pipeline/app.js';
import { PIPELINES, type PipelineOverview } from '../pipeline/tokens.js';
import { RTMP_SERVER, type RtmpServer } from '../rtmp/server.js';
import type { AccessConfig } from '../access/config.js';
import type { ServerConfig } from '../server/config.js';
import { LIVE_SERVER, type LiveServer } from '../server/listener.js';
import type { Unregister } from '../server/registrations.js';
import { isValidName } from '../server/routes.js';
import { SERVER_CONFIG } from '../server/tokens.js';
import { SNAPSHOTS, type SnapshotStore } from '../snapshot/store.js';
import { RateWindow } from './rates.js';
import { BearerAuth, sendError, sendJson } from './respond.js';
import { requireLive } from './require.js';
import { playerView, remoteStreamSummary, streamDetail, streamSummary, type PlayUrls, type ViewContext } from './views.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** How often every live stream's byte counters are read for the bitrate window. */
const SAMPLE_MS = 1000;
const REASON_MAX = 120;

/**
 * The JSON API, mounted under `/api` when `server.api` is on:
 *
 *   GET    /api/pipelines              each pipeline's components by id and type, and its streams now
 *   GET    /api/health                 always open: status, uptime, counts, which node and pid answered
 *   GET    /api/cluster                the cluster's nodes (pid, players, streams) and the streams other nodes hold
 *   GET    /api/streams                every live stream: tracks, bitrate in/out, players, play URLs
 *   GET    /api/streams/APP/STREAM     one stream in detail: metadata, GOP, every player
 *   DELETE /api/streams/APP/STREAM     end it: players and publisher closed with 4410 (`?reason=` to say why)
 *   GET    /api/streams/APP/STREAM/snapshot.jpg   its latest keyframe as a JPEG (with a `snapshot` sink)
 *   GET    /api/players/ID             one player
 *   DELETE /api/players/ID             kick it: closed with 1008 (`?reason=`)
 *
 * With `server.api.token` set, everything but health needs `Authorization: Bearer TOKEN`.
 * Routes are mounted when the service is built (the App builds every lifecycle service before starting
 * any), so the listener counts them when it decides whether to listen.
 */
@injectable()
export class HttpApi implements Lifecycle {
  readonly name = 'http-api';
  readonly enabled: boolean;
  readonly #server: LiveServer | undefined;
  readonly #registry: LiveRegistry | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #auth: BearerAuth;
  readonly #rates = new RateWindow(5000);
  readonly #startedAt: number;
  #unmount: Unregister | undefined;
  #sampler: NodeJS.Timeout | undefined;
  readonly #rtmp: RtmpServer | undefined;
  readonly #pipelines: { list(): PipelineOverview[] } | undefined;
  readonly #snapshots: SnapshotStore | undefined;

  constructor(
    @inject(SERVER_CONFIG) config: ServerConfig,
    @inject(LIVE_SERVER) @optional() server: LiveServer | undefined,
    @inject(LIVE_REGISTRY) @optional() registry: LiveRegistry | undefined,
    @inject(CLOCK) clock: Clock,
    @inject(LOGGER) logger: Logger,
    @inject(RTMP_SERVER) @optional() rtmp: RtmpServer | undefined,
    @inject(PIPELINES) @optional() pipelines: { list(): PipelineOverview[] } | undefined,
    @inject(SNAPSHOTS) @optional() snapshots: SnapshotStore | undefined,
  ) {
    this.#snapshots = snapshots;
    this.#rtmp = rtmp;
    this.#pipelines = pipelines;
    const api = config.api;
    this.enabled = api.enabled;
    this.#clock = clock;
    this.#logger = logger.child({ component: 'http-api' });
    this.#auth = new BearerAuth(api.token);
    this.#startedAt = clock.wallNow();
    if (!this.enabled) return;
    ({ server: this.#server, registry: this.#registry } = requireLive(server, registry, 'server.api'));
    this.#unmount = this.#server.route('*', '/api', (req, res, url) => this.#handle(req, res, url.pathname, url.query));
  }

  async start(): Promise<void> {
    if (!this.enabled || this.#sampler) return;
    this.#sample();
    this.#sampler = setInterval(() => this.#sample(), SAMPLE_MS);
    this.#sampler.unref();
    this.#logger.debug({ token: this.#auth.required }, 'API mounted at /api');
  }

  async stop(): Promise<void> {
    clearInterval(this.#sampler);
    this.#sampler = undefined;
    this.#unmount?.();
    this.#unmount = undefined;
  }

  #sample(): void {
    const t = this.#clock.now();
    const live = new Set<string>();
    for (const stats of this.#registry!.list()) {
      live.add(stats.key);
      this.#rates.record(stats.key, t, stats.bytesIn, stats.bytesOut);
    }
    this.#rates.retain(live);
  }

  #handle(req: IncomingMessage, res: ServerResponse, pathname: string, query: Record<string, string>): void {
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const parts = pathname.split('/').slice(2); // '', 'api', ...
    const route = parts[0] ?? '';

    if (route === 'health' && parts.length === 1) {
      if (method !== 'GET') return methodNotAllowed(res, 'GET, HEAD');
      return this.#health(res);
    }
    const refused = this.#auth.check(req);
    if (refused) return this.#auth.refuse(res, refused);

    if (route === 'pipelines' && parts.length === 1) {
      if (method !== 'GET') return methodNotAllowed(res, 'GET, HEAD');
      return sendJson(res, 200, { pipelines: this.#pipelines?.list() ?? [] });
    }
    if (route === 'cluster' && parts.length === 1) {
      if (method !== 'GET') return methodNotAllowed(res, 'GET, HEAD');
      return this.#cluster(res);
    }
    if (route === 'streams' && parts.length === 1) {
      if (method !== 'GET') return methodNotAllowed(res, 'GET, HEAD');
      return this.#listStreams(req, res);
    }
    if (route === 'streams' && parts.length === 4 && parts[3] === 'snapshot.jpg') {
      if (method !== 'GET') return methodNotAllowed(res, 'GET, HEAD');
      const [app, stream] = [decode(parts[1]!), decode(parts[2]!)];
      if (app === undefined || stream === undefined || !isValidName(app) || !isValidName(stream)) {
        return sendError(res, 400, 'snapshot paths have the form /api/streams/APP/STREAM/snapshot.jpg');
      }
      return this.#sendSnapshot(req, res, `${app}/${stream}`);
    }
    if (route === 'streams' && parts.length === 3) {
      const [app, stream] = [decode(parts[1]!), decode(parts[2]!)];
      if (app === undefined || stream === undefined || !isValidName(app) || !isValidName(stream)) {
        return sendError(res, 400, 'stream paths have the form /api/streams/APP/STREAM (A-Z a-z 0-9 _ . -)');
      }
      const key = `${app}/${stream}`;
      if (method === 'GET') return this.#showStream(req, res, key);
      if (method === 'DELETE') return this.#endStream(res, key, query.reason);
      return methodNotAllowed(res, 'GET, HEAD, DELETE');
    }
    if (route === 'players' && parts.length === 2) {
      const id = decode(parts[1]!);
      if (id === undefined || !/^[\w.-]{1,64}$/.test(id)) return sendError(res, 400, 'player paths have the form /api/players/ID');
      if (method === 'GET') return this.#showPlayer(res, id);
      if (method === 'DELETE') return this.#kickPlayer(res, id, query.reason);
      return methodNotAllowed(res, 'GET, HEAD, DELETE');
    }
    sendError(res, 404, `no API endpoint at ${pathname} (see /api/streams, /api/streams/APP/STREAM, /api/players/ID, /api/cluster, /api/health)`);
  }

  /** The port RTMP really listens on (the configured one may be 0), and whether it is RTMPS. */
  #rtmpPort(): { port: number; tls: boolean } | null {
    const rtmp = this.#rtmp;
    if (!rtmp?.enabled) return null;
    try {
      const url = new URL(rtmp.url());
      return { port: Number(url.port), tls: url.protocol === 'rtmps:' };
    } catch {
      return null;
    }
  }

  #health(res: ServerResponse): void {
    const streams = this.#registry!.list();
    // Present when access control is loaded (it owns `server.auth`); all open otherwise.
    const auth = (this.#server!.config as Partial<AccessConfig>).auth ?? { apps: {}, default: {} };
    sendJson(res, 200, {
      status: 'ok',
      version: VERSION,
      // Which process answered: behind `server.workers`, any of them may.
      node: this.#registry!.remote?.node ?? 'local',
      pid: process.pid,
      uptimeMs: Math.max(0, this.#clock.wallNow() - this.#startedAt),
      streams: streams.length,
      publishers: streams.filter((s) => s.publisher).length,
      players: streams.reduce((n, s) => n + s.players + s.waiting, 0),
      // The write-gathering windows in force (ms): what an adaptive window chose under the current load.
      writeWindows: this.#registry!.writeWindows(),
      writeLoad: Math.round(unbatchedLoad() * 1000) / 1000,
      // What the web page's Publish panel needs to show RTMP and OBS settings; no secret in it.
      rtmp: this.#rtmpPort(),
      signedPublish: { apps: Object.entries(auth.apps).filter(([, e]) => e.publishSecret).map(([app]) => app), default: auth.default.publishSecret !== undefined },
    });
  }

  #cluster(res: ServerResponse): void {
    const remote = this.#registry!.remote;
    if (!remote) return sendJson(res, 200, { enabled: false, node: 'local', connected: false, nodes: [] });
    sendJson(res, 200, {
      enabled: true,
      node: remote.node,
      connected: remote.connected,
      nodes: remote.nodes().map((n) => ({ ...n, startedAt: new Date(n.startedAt).toISOString() })),
      streams: remote.list().map((s) => ({ ...s, since: new Date(s.since).toISOString() })),
    });
  }

  #listStreams(req: IncomingMessage, res: ServerResponse): void {
    const streams = this.#registry!.list();
    const base = this.#base(req);
    const summaries = streams.map((stats) => ({ ...streamSummary(stats, this.#viewContext(stats.key, stats.bytesIn, stats.bytesOut, base)), snapshot: this.#snapshotOf(stats.key) }));
    // In a cluster, the streams other nodes hold play here too.
    const local = new Set(streams.map((s) => s.key));
    const now = this.#clock.wallNow();
    for (const remote of this.#registry!.remote?.list() ?? []) {
      if (!local.has(remote.key)) summaries.push({ ...remoteStreamSummary(remote, { base, now }), snapshot: null });
    }
    summaries.sort((a, b) => a.key.localeCompare(b.key));
    sendJson(res, 200, { streams: summaries });
  }

  #sendSnapshot(req: IncomingMessage, res: ServerResponse, key: string): void {
    const snapshot = this.#snapshots?.get(key);
    if (!snapshot) return sendError(res, 404, `no snapshot of ${key} (a \`snapshot\` sink takes one per stream)`);
    res.writeHead(200, {
      'content-type': 'image/jpeg',
      'content-length': snapshot.jpeg.length,
      'cache-control': 'no-store',
      'last-modified': new Date(snapshot.takenAt).toUTCString(),
    });
    res.end(req.method === 'HEAD' ? undefined : snapshot.jpeg);
  }

  /** Where a stream's snapshot is, and when it was taken, for its summary. */
  #snapshotOf(key: string): { url: string; takenAt: string; width: number; height: number } | null {
    const snapshot = this.#snapshots?.get(key);
    if (!snapshot) return null;
    return { url: `/api/streams/${key}/snapshot.jpg`, takenAt: new Date(snapshot.takenAt).toISOString(), width: snapshot.width, height: snapshot.height };
  }

  #showStream(req: IncomingMessage, res: ServerResponse, key: string): void {
    const stats = this.#registry!.list().find((s) => s.key === key);
    if (!stats) return sendError(res, 404, `no live stream at ${key}`);
    const context = this.#viewContext(key, stats.bytesIn, stats.bytesOut, this.#base(req));
    sendJson(res, 200, { ...streamDetail(stats, this.#registry!.players(key), context), snapshot: this.#snapshotOf(key) });
  }

  #endStream(res: ServerResponse, key: string, reason: string | undefined): void {
    const stats = this.#registry!.list().find((s) => s.key === key);
    if (!stats) return sendError(res, 404, `no live stream at ${key}`);
    const why = reasonText(reason, 'the stream was ended by an operator');
    this.#registry!.end(key, CLOSE.streamEnded, why);
    this.#logger.info({ stream: key, reason: why }, 'stream ended through the API');
    sendJson(res, 200, { ended: key, code: CLOSE.streamEnded, reason: why, players: stats.players + stats.waiting, publisher: stats.publisher !== undefined });
  }

  #showPlayer(res: ServerResponse, id: string): void {
    const player = this.#findPlayer(id);
    if (!player) return sendError(res, 404, `no player ${id}`);
    sendJson(res, 200, playerView(player, this.#server!.connections()));
  }

  #kickPlayer(res: ServerResponse, id: string, reason: string | undefined): void {
    const player = this.#findPlayer(id);
    const why = reasonText(reason, 'disconnected by an operator');
    if (!player || !this.#registry!.kick(id, CLOSE.policyViolation, why)) return sendError(res, 404, `no player ${id}`);
    this.#logger.info({ player: id, stream: player.key, reason: why }, 'player kicked through the API');
    sendJson(res, 200, { kicked: id, key: player.key, code: CLOSE.policyViolation, reason: why });
  }

  #findPlayer(id: string) {
    for (const stats of this.#registry!.list()) {
      const player = this.#registry!.players(stats.key).find((p) => p.id === id);
      if (player) return player;
    }
    return undefined;
  }

  #viewContext(key: string, bytesIn: number, bytesOut: number, base: PlayUrls): ViewContext {
    return {
      now: this.#clock.wallNow(),
      connections: this.#server!.connections(),
      rates: this.#rates.rates(key, this.#clock.now(), bytesIn, bytesOut),
      base,
      node: this.#registry!.remote?.node ?? 'local',
    };
  }

  /** Play URL bases as the client reached us (its Host header), else the address we listen on. */
  #base(req: IncomingMessage): PlayUrls {
    const host = req.headers.host;
    const tls = this.#server!.config.tls !== undefined;
    if (host && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host)) {
      return { ws: `${tls ? 'wss' : 'ws'}://${host}`, http: `${tls ? 'https' : 'http'}://${host}` };
    }
    return { ws: this.#server!.url('ws'), http: this.#server!.url('http') };
  }
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  sendError(res, 405, `method not allowed here (allowed: ${allow})`, { Allow: allow });
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** An operator's reason, kept printable and short enough for a close frame. */
function reasonText(reason: string | undefined, fallback: string): string {
  const text = (reason ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, REASON_MAX);
  return text || fallback;
}
