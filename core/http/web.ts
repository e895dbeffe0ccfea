import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject, injectable, optional } from 'inversify';
import { LIVE_REGISTRY, type LiveRegistry } from '../live/registry.js';
import { LOGGER, type Logger } from '../logger.js';
import type { Lifecycle } from '../pipeline/app.js';
import type { ServerConfig } from '../server/config.js';
import { LIVE_SERVER, type LiveServer } from '../server/listener.js';
import type { Unregister } from '../server/registrations.js';
import { SERVER_CONFIG } from '../server/tokens.js';
import { requireLive } from './require.js';

const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'web');

/** Where the installed mpegts.js keeps its browser build. */
export function mpegtsDistDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mpegts.js/package.json')), 'dist');
}

interface Asset {
  file: string;
  type: string;
  /** Browsers may keep it this many seconds without asking (0: revalidate every time, by ETag). */
  maxAge: number;
}

/** Everything the page is made of; nothing else is read from disk, whatever the URL says. */
const ASSETS: Record<string, () => Asset> = {
  '/': () => ({ file: join(WEB_DIR, 'index.html'), type: 'text/html; charset=utf-8', maxAge: 0 }),
  '/index.html': () => ASSETS['/']!(),
  '/app.js': () => ({ file: join(WEB_DIR, 'app.js'), type: 'text/javascript; charset=utf-8', maxAge: 0 }),
  '/style.css': () => ({ file: join(WEB_DIR, 'style.css'), type: 'text/css; charset=utf-8', maxAge: 0 }),
  '/favicon.svg': () => ({ file: join(WEB_DIR, 'favicon.svg'), type: 'image/svg+xml', maxAge: 86_400 }),
  '/vendor/mpegts.js': () => ({ file: join(mpegtsDistDir(), 'mpegts.js'), type: 'text/javascript; charset=utf-8', maxAge: 3600 }),
  '/vendor/mpegts.js.map': () => ({ file: join(mpegtsDistDir(), 'mpegts.js.map'), type: 'application/json; charset=utf-8', maxAge: 3600 }),
};

/** The page plays from this server only: scripts and styles from here, media over ws(s)/http(s) to here, MSE blobs. */
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' ws: wss:; worker-src 'self' blob:; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  'Referrer-Policy': 'no-referrer',
};

/**
 * `GET /`, when `server.web` is on: one static page (core/web: index.html, app.js, style.css; no
 * framework, no build step) that lists the live streams from the API, refreshed every 2 s, plays the
 * one picked with mpegts.js (served from the installed package at /vendor/mpegts.js), and shows the
 * play URLs and how to publish. Mounted at `/`, so it also answers 404 for any other unmounted path.
 */
@injectable()
export class WebPage implements Lifecycle {
  readonly name = 'http-web';
  readonly enabled: boolean;
  readonly #cache = new Map<string, Promise<{ body: Buffer; etag: string }>>();
  #unmount: Unregister | undefined;

  constructor(
    @inject(SERVER_CONFIG) config: ServerConfig,
    @inject(LIVE_SERVER) @optional() server: LiveServer | undefined,
    @inject(LIVE_REGISTRY) @optional() registry: LiveRegistry | undefined,
    @inject(LOGGER) logger: Logger,
  ) {
    const settings = config;
    this.enabled = settings.web.enabled;
    if (!this.enabled) return;
    const live = requireLive(server, registry, 'server.web');
    const log = logger.child({ component: 'http-web' });
    if (!settings.api.enabled) log.warn('server.web is on but server.api is off: the page cannot list streams (turn on server.api)');
    this.#unmount = live.server.route('GET', '/', (req, res, url) =>
      this.#serve(req, res, url.pathname).catch((error: unknown) => {
        log.error({ err: error, path: url.pathname }, 'cannot serve a page file');
        if (!res.headersSent) text(res, 500, 'internal error');
      }),
    );
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.#unmount?.();
    this.#unmount = undefined;
  }

  async #serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const asset = Object.hasOwn(ASSETS, pathname) ? ASSETS[pathname]!() : undefined;
    if (!asset) return text(res, 404, `nothing at ${pathname}`);
    const { body, etag } = await this.#load(asset.file);
    const headers: Record<string, string | number> = {
      'Content-Type': asset.type,
      'Cache-Control': asset.maxAge > 0 ? `public, max-age=${asset.maxAge}` : 'no-cache',
      ETag: etag,
      'X-Content-Type-Options': 'nosniff',
      ...(asset.type.startsWith('text/html') ? PAGE_HEADERS : {}),
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': body.length });
    res.end(body);
  }

  /** Each file is read once and kept: they are small, and the page is meant to be served from memory. */
  #load(file: string): Promise<{ body: Buffer; etag: string }> {
    let entry = this.#cache.get(file);
    if (!entry) {
      entry = readFile(file).then((body) => ({ body, etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"` }));
      entry.catch(() => this.#cache.delete(file));
      this.#cache.set(file, entry);
    }
    return entry;
  }
}

function text(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`${message}\n`);
}
