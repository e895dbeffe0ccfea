import { z, type ZodRawShape } from 'zod';

/**
 * A feature of the listener that is off unless the file turns it on: `NAME: true`, `NAME: false`, or a
 * map of its options (`enabled` defaults to true there). Absent means off.
 */
function feature<T extends ZodRawShape>(shape: T, description: string) {
  const options = z
    .object({ enabled: z.boolean().default(true).describe('serve it'), ...shape })
    .strict();
  return z
    .preprocess(
      // A bare value is the switch itself: `web: yes` is then reported as `web.enabled` not being a boolean.
      (value) => (value === undefined || value === null ? { enabled: false } : typeof value === 'object' ? value : { enabled: value }),
      options,
    )
    .describe(description);
}

/** `${API_TOKEN:-}` unset reads as null, digits read as a number: both still mean what was written. */
const token = z.preprocess(
  (value) => (value === null || value === '' ? undefined : typeof value === 'number' ? String(value) : value),
  z.string().optional(),
);

/**
 * The `server:` section: one HTTP/WebSocket listener shared by every live source and sink.
 * Components that serve connections read it through the SERVER_CONFIG token. Access control adds its
 * own fields (`auth`, `hooks`) to the section from its module (core/access/module.ts).
 */
export const serverConfigShape = {
    host: z.string().min(1).default('0.0.0.0').describe('address to listen on'),
    port: z.number().int().min(0).max(65535).default(8080).describe('TCP port (0 = any free port)'),
    tls: z
      .object({
        key: z.string().min(1).describe('path to the PEM private key'),
        cert: z.string().min(1).describe('path to the PEM certificate chain'),
      })
      .strict()
      .optional()
      .describe('serve https and wss on the same port'),
    limits: z
      .object({
        connections: z.number().int().min(1).default(1000).describe('live connections (publishers and players) at once; more are refused with 503 / close 1013'),
        streams: z.number().int().min(1).default(100).describe('streams being published at once; more publishers are refused with 503 / close 1013'),
        players: z.number().int().min(1).optional().describe('players at once, every transport; more are refused with 503 / close 1013; unset = only `connections` bounds them'),
        publishersPerIp: z.number().int().min(1).optional().describe('publishers at once from one IP address; more are refused with 429 / close 1013; unset = no limit'),
        playersPerIp: z.number().int().min(1).optional().describe('players at once from one IP address; more are refused with 429 / close 1013; unset = no limit'),
        messageBytes: z
          .number()
          .int()
          .min(1024)
          .default(16 * 1024 * 1024)
          .describe('largest WebSocket message a peer may send; a bigger one closes it with 1009'),
      })
      .strict()
      .default({}),
    timeouts: z
      .object({
        headersMs: z.number().int().min(100).default(10_000).describe('ms to receive request headers (and so a WebSocket handshake); slower clients get 408'),
        requestMs: z
          .number()
          .int()
          .min(0)
          .default(0)
          .describe('ms to receive a whole request body, 0 = none (an HTTP publisher sends an endless body; its silence is caught by the source idle timeout)'),
        closeMs: z.number().int().min(100).default(5_000).describe('ms a WebSocket peer gets to answer a close frame before its socket is cut'),
      })
      .strict()
      .default({}),
    keepalive: z
      .object({
        intervalMs: z
          .number()
          .int()
          .min(0)
          .default(15_000)
          .describe('ms between WebSocket pings (and TCP keep-alive probes for HTTP); a peer that misses a pong by the next ping is cut; 0 = off'),
      })
      .strict()
      .default({}),
    rtmp: z
      .object({
        port: z.number().int().min(0).max(65535).default(1935).describe('TCP port for RTMP (0 = any free port)'),
        host: z.string().min(1).optional().describe('address to listen on (default: the server host)'),
        tls: z.boolean().default(false).describe('RTMPS: TLS with the key and certificate of `server.tls`'),
        chunkSize: z.number().int().min(128).max(16 * 1024 * 1024).default(60_000).describe('outgoing chunk size announced to every RTMP peer'),
        handshakeTimeoutMs: z.number().int().min(100).max(120_000).default(5_000).describe('a peer that has not finished the handshake by then is cut'),
        idleTimeoutMs: z.number().int().min(100).max(3_600_000).default(30_000).describe('a connected peer that sends nothing for this long (and is not playing) is cut'),
        maxMessageBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(16 * 1024 * 1024).describe('largest RTMP message a peer may send; a bigger one closes it'),
      })
      .strict()
      .optional()
      .describe('RTMP (and RTMPS) publishers and players on their own port; off when absent'),
    web: feature({}, 'GET /: a page listing the live streams, playing the one picked with mpegts.js (needs `api`)'),
    api: feature(
      { token: token.describe('bearer token the API asks for (Authorization: Bearer TOKEN); unset = open; /api/health is always open') },
      'JSON API under /api: streams, their tracks and players, ending a stream, kicking a player, health',
    ),
    metrics: feature({}, 'GET /metrics: Prometheus text format'),
};

export const serverConfigSchema = z.object(serverConfigShape).strict();

export type ServerConfig = z.infer<typeof serverConfigSchema>;
