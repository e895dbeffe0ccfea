/**
 * The live server with the listener's HTTP features (web page, API, metrics) for tests, and a
 * WebSocket publisher that loops a fixture in real time for as long as a test needs a live stream.
 */
import { WebSocket } from 'ws';
import { httpModule } from '../../core/http/module.js';
import { liveModules, startLiveApp, type LiveApp } from './live-app.js';
import { FIXTURE, type Closed } from './live-clients.js';
import { pacedFlvTags } from './paced-flv.js';

/** `server:` lines (indented by two) that turn on the web page, the API and metrics. */
export function httpFeatures(options: { token?: string; web?: boolean; api?: boolean; metrics?: boolean } = {}): string {
  const api = options.api === false ? '  api: false' : options.token ? `  api: { token: ${JSON.stringify(options.token)} }` : '  api: true';
  return [`  web: ${options.web ?? true}`, api, `  metrics: ${options.metrics ?? true}`].join('\n');
}

/** The usual live pipeline (publish → demux → timestamps → ws-play, http-play) with `server` lines added. */
export async function startHttpApp(server: string, env: Record<string, string> = {}): Promise<LiveApp> {
  const yaml = `server:
  host: 127.0.0.1
  port: 0
${server}
pipelines:
  live:
    source: { type: publish, idleTimeoutMs: 30000 }
    stages: [flv-demux, timestamps]
    sinks: [ws-play, { type: http-play, waitForPublisherMs: 5000 }]
`;
  return startHttpYaml(yaml, env);
}

/** A whole pipeline file (an example, say) with the live and HTTP modules, started. */
export async function startHttpYaml(yaml: string, env: Record<string, string> = {}): Promise<LiveApp> {
  return startLiveApp(yaml, env, { modules: [...liveModules, httpModule] });
}

export interface LoopingPublisher {
  socket: WebSocket;
  /** The server's close code and reason, once it closes the publisher. */
  closed: Promise<Closed>;
  stop(): void;
}

/**
 * Publish `file` over WebSocket in real time, over and over, timestamps continuing from one pass to
 * the next, until stop() or the server closes the connection.
 */
export async function publishLoop(url: string, file = FIXTURE): Promise<LoopingPublisher> {
  const abort = new AbortController();
  const socket = new WebSocket(url, 'publisher');
  socket.on('error', () => abort.abort());
  const closed = new Promise<Closed>((resolve) => {
    socket.once('close', (code: number, reason: Buffer) => {
      abort.abort();
      resolve({ code, reason: reason.toString() });
    });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => reject(new Error(`publisher refused: HTTP ${res.statusCode}`)));
    socket.once('error', reject);
  });
  void (async () => {
    let offset = 0;
    let first = true;
    while (!abort.signal.aborted) {
      let last = 0;
      for await (const { header, tag, dts } of pacedFlvTags(file, { signal: abort.signal })) {
        if (socket.readyState !== WebSocket.OPEN) return;
        if (header && first) socket.send(header);
        const shifted = Buffer.from(tag);
        const ts = dts + offset;
        shifted.writeUIntBE(ts & 0xffffff, 4, 3);
        shifted[7] = (ts >>> 24) & 0xff;
        socket.send(shifted);
        last = Math.max(last, ts);
      }
      first = false;
      offset = last + 40;
    }
  })().catch(() => abort.abort());
  return {
    socket,
    closed,
    stop() {
      abort.abort();
      socket.terminate();
    },
  };
}

/** GET or DELETE `path` on the server; the body parsed as JSON when it is JSON. */
export async function request(base: string, path: string, options: { method?: string; token?: string } = {}) {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(`${base}${path}`, { method: options.method ?? 'GET', headers });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Poll `check` until it returns something truthy, or fail after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
