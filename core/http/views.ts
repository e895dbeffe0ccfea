import type { LiveStreamStats } from '../live/channel.js';
import type { RemoteStream } from '../live/remote.js';
import type { PlayerStats } from '../live/player.js';
import type { TrackInfo } from '../media/track.js';
import type { LiveConnection } from '../server/connection.js';
import type { Rates } from './rates.js';

/**
 * The JSON shapes of the HTTP API, built from the registry's and the listener's own bookkeeping.
 * Times are ISO strings, durations milliseconds, rates bits per second, sizes bytes.
 */

export interface PlayUrls {
  ws: string;
  http: string;
}

export interface PublisherView {
  /** Connection id (`p-N`), when the publisher is a live connection. */
  id: string | null;
  transport: string;
  address: string | null;
  startedAt: string;
}

export type VideoView = TrackInfo & { frameRate?: number };

export interface StreamSummary {
  key: string;
  app: string;
  stream: string;
  /** `live`: a publisher is on it; `grace`: it left and players wait for it to come back. */
  state: 'live' | 'grace';
  publisher: PublisherView | null;
  /** Since the current publisher started, null while there is none. */
  uptimeMs: number | null;
  video: VideoView | null;
  audio: TrackInfo | null;
  bitrate: { in: number; out: number };
  /** Players receiving the stream, and players waiting for it to start. */
  playerCount: number;
  waitingCount: number;
  play: PlayUrls;
  /** The cluster node whose publisher feeds it (this node's name, or `local` outside a cluster). */
  node: string;
}

export interface PlayerView {
  id: string;
  key: string;
  transport: string;
  address: string;
  state: string;
  connectedAt: string | null;
  bytesSent: number;
  tagsSent: number;
  framesDropped: number;
  queuedBytes: number;
}

export interface StreamDetail extends StreamSummary {
  /** The publisher's onMetaData, scalar fields only (a file's keyframe index is left out). */
  metadata: Record<string, string | number | boolean>;
  tagsIn: number;
  bytesIn: number;
  tagsOut: number;
  bytesOut: number;
  framesDropped: number;
  gop: { keyframeIntervalMs: number | null; frames: number; bytes: number; spanMs: number; overflows: number };
  players: PlayerView[];
}

export interface ViewContext {
  /** Wall-clock now, epoch ms. */
  now: number;
  connections: readonly LiveConnection[];
  rates: Rates;
  /** Base URLs without a path, e.g. `ws://host:8080` and `http://host:8080`. */
  base: PlayUrls;
  /** This node's name in the cluster (`local` outside one). */
  node: string;
}

export function streamSummary(stats: LiveStreamStats, ctx: ViewContext): StreamSummary {
  const [app = stats.key, stream = ''] = stats.key.split('/', 2);
  const publisher = stats.publisher;
  const connection = publisher && ctx.connections.find((c) => c.role === 'publisher' && c.key === stats.key && !c.closed.fired);
  const video = stats.codecs.video ? { ...stats.codecs.video, ...frameRate(stats.metadata) } : null;
  return {
    key: stats.key,
    app,
    stream,
    state: stats.state === 'grace' ? 'grace' : 'live',
    publisher: publisher
      ? {
          id: publisher.id ?? connection?.id ?? null,
          transport: publisher.origin?.transport ?? connection?.transport ?? (publisher.node !== undefined ? 'cluster' : 'unknown'),
          address: publisher.origin?.address ?? connection?.address ?? null,
          startedAt: new Date(publisher.startedAt).toISOString(),
        }
      : null,
    uptimeMs: publisher ? Math.max(0, ctx.now - publisher.startedAt) : null,
    video,
    audio: stats.codecs.audio ?? null,
    bitrate: { in: ctx.rates.inBps, out: ctx.rates.outBps },
    playerCount: stats.players,
    waitingCount: stats.waiting,
    play: { ws: `${ctx.base.ws}/${stats.key}.flv`, http: `${ctx.base.http}/${stats.key}.flv` },
    node: publisher?.node ?? ctx.node,
  };
}

/** A stream another node holds: what this node knows of it, and where it plays here. */
export function remoteStreamSummary(remote: RemoteStream, ctx: Pick<ViewContext, 'base' | 'now'>): StreamSummary {
  const [app = remote.key, stream = ''] = remote.key.split('/', 2);
  return {
    key: remote.key,
    app,
    stream,
    state: remote.state,
    publisher: remote.state === 'live' ? { id: null, transport: 'cluster', address: null, startedAt: new Date(remote.since).toISOString() } : null,
    uptimeMs: remote.state === 'live' ? Math.max(0, ctx.now - remote.since) : null,
    video: null,
    audio: null,
    bitrate: { in: 0, out: 0 },
    playerCount: remote.players,
    waitingCount: 0,
    play: { ws: `${ctx.base.ws}/${remote.key}.flv`, http: `${ctx.base.http}/${remote.key}.flv` },
    node: remote.node,
  };
}

export function streamDetail(stats: LiveStreamStats, players: readonly PlayerStats[], ctx: ViewContext): StreamDetail {
  return {
    ...streamSummary(stats, ctx),
    metadata: scalars(stats.metadata),
    tagsIn: stats.tagsIn,
    bytesIn: stats.bytesIn,
    tagsOut: stats.tagsOut,
    bytesOut: stats.bytesOut,
    framesDropped: stats.framesDropped,
    gop: { keyframeIntervalMs: stats.keyframeIntervalMs ?? null, ...stats.gop },
    players: players.map((p) => playerView(p, ctx.connections)),
  };
}

export function playerView(player: PlayerStats, connections: readonly LiveConnection[]): PlayerView {
  const connection = connections.find((c) => c.id === player.id);
  return {
    id: player.id,
    key: player.key,
    transport: player.transport,
    address: player.address,
    state: player.state,
    connectedAt: connection ? new Date(connection.connectedAt).toISOString() : null,
    bytesSent: player.bytesSent,
    tagsSent: player.tagsSent,
    framesDropped: player.framesDropped,
    queuedBytes: player.queuedBytes,
  };
}

function frameRate(metadata: Record<string, unknown> | undefined): { frameRate?: number } {
  const value = metadata?.framerate ?? metadata?.videoframerate;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? { frameRate: Math.round(value * 1000) / 1000 } : {};
}

function scalars(metadata: Record<string, unknown> | undefined): Record<string, string | number | boolean> {
  // fromEntries defines own properties: a publisher's `__proto__` key stays a plain key.
  const out: [string, string | number | boolean][] = [];
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (typeof value === 'string') out.push([key, value.slice(0, 256)]);
    else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') out.push([key, value]);
  }
  return Object.fromEntries(out);
}
