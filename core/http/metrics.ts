import type { ServerResponse } from 'node:http';
import { inject, injectable, optional } from 'inversify';
import { collectDefaultMetrics, Gauge } from 'prom-client';
import { LIVE_REGISTRY, type LiveRegistry } from '../live/registry.js';
import { LOGGER, type Logger } from '../logger.js';
import { METRICS, type Metrics } from '../metrics.js';
import type { Lifecycle } from '../pipeline/app.js';
import type { ServerConfig } from '../server/config.js';
import { LIVE_SERVER, type LiveServer } from '../server/listener.js';
import type { Unregister } from '../server/registrations.js';
import { SERVER_CONFIG } from '../server/tokens.js';
import { requireLive } from './require.js';

/**
 * `GET /metrics` in the Prometheus text format, when `server.metrics` is on: every metric of the
 * process's Metrics registry (the live registry's, the listener's, the pipeline runtime's and any
 * plugin's), the publishers gauge read at scrape time, and node's process metrics.
 *
 * Metrics come from where things happen:
 *   wsflv_live_streams, wsflv_live_players{transport}, wsflv_live_players_closed_total{code,reason},
 *   wsflv_live_frames_dropped_total, wsflv_live_{bytes,tags}_{received,sent}_total   (live registry)
 *   wsflv_publish_errors_total{code}, wsflv_server_connections{role,transport},
 *   wsflv_server_refused_total{reason}, wsflv_server_reaped_total                     (listener)
 *   wsflv_pipeline_items_total{pipeline,component,id}                                (pipeline runtime)
 *   wsflv_live_publishers{transport}                                                 (here, at scrape)
 */
@injectable()
export class MetricsEndpoint implements Lifecycle {
  readonly name = 'http-metrics';
  readonly enabled: boolean;
  readonly #metrics: Metrics;
  #unmount: Unregister | undefined;

  constructor(
    @inject(SERVER_CONFIG) config: ServerConfig,
    @inject(LIVE_SERVER) @optional() server: LiveServer | undefined,
    @inject(LIVE_REGISTRY) @optional() registry: LiveRegistry | undefined,
    @inject(METRICS) metrics: Metrics,
    @inject(LOGGER) logger: Logger,
  ) {
    this.enabled = config.metrics.enabled;
    this.#metrics = metrics;
    if (!this.enabled) return;
    const live = requireLive(server, registry, 'server.metrics');
    new Gauge({
      name: 'wsflv_live_publishers',
      help: 'Publishers on live streams now, by transport',
      labelNames: ['transport'],
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const stats of live.registry.list()) {
          if (stats.publisher) this.inc({ transport: stats.publisher.origin?.transport ?? 'unknown' });
        }
      },
    });
    collectDefaultMetrics({ register: metrics.registry });
    const log = logger.child({ component: 'http-metrics' });
    this.#unmount = live.server.route('GET', '/metrics', (_req, res, url) => {
      if (url.pathname !== '/metrics') return notFound(res);
      return this.#scrape(res).catch((error: unknown) => {
        log.error({ err: error }, 'metrics collection failed');
        if (!res.headersSent) {
          res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end('metrics collection failed\n');
        }
      });
    });
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.#unmount?.();
    this.#unmount = undefined;
  }

  async #scrape(res: ServerResponse): Promise<void> {
    const body = await this.#metrics.scrape();
    res.writeHead(200, {
      'Content-Type': this.#metrics.registry.contentType,
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
    });
    res.end(body);
  }
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('not found\n');
}
