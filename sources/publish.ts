import { inject, injectable, optional } from 'inversify';
import { z } from 'zod';
import { WsflvError } from '../core/errors.js';
import type { PublishConnection } from '../core/live/types.js';
import type { SourceComponent, SourceInstance } from '../core/pipeline/component.js';
import { FLV_BYTES } from '../core/pipeline/kinds.js';
import { RTMP_SERVER, type RtmpServer } from '../core/rtmp/server.js';
import { LIVE_SERVER, requireServer, type LiveServer } from '../core/server/listener.js';
import type { AcceptOptions, Unregister } from '../core/server/registrations.js';
import { publishOptionsSchema, publishSessions, type PublishSourceOptions } from '../core/server/publish-sessions.js';

/** How publishers may connect. */
export const PUBLISH_TRANSPORTS = ['ws', 'http', 'rtmp'] as const;
export type PublishTransport = (typeof PUBLISH_TRANSPORTS)[number];

const anyTransportOptions = publishOptionsSchema
  .extend({
    transports: z
      .array(z.enum(PUBLISH_TRANSPORTS))
      .min(1)
      .optional()
      .describe('how publishers may connect (default: WebSocket, HTTP, and RTMP when `server.rtmp` is set)'),
  })
  .strict();

type AnyTransportOptions = z.infer<typeof anyTransportOptions>;

/** Who takes publishers of a transport: the HTTP/WebSocket listener, or the RTMP one. */
export function publisherAcceptor(
  transport: PublishTransport,
  component: string,
  services: { server: LiveServer | undefined; rtmp: RtmpServer | undefined },
): (handler: (connection: PublishConnection) => void, options: AcceptOptions) => Unregister {
  if (transport === 'rtmp') {
    const rtmp = services.rtmp;
    if (!rtmp?.enabled) throw new WsflvError('WSFLV_ERR_NO_RTMP', `\`${component}\` takes RTMP publishers: turn RTMP on in \`server.rtmp\` (e.g. \`rtmp: { port: 1935 }\`)`);
    return (handler, options) => rtmp.acceptPublishers(handler, options);
  }
  const server = requireServer(services.server, component);
  return (handler, options) => server.acceptPublishers(transport, handler, options);
}

/**
 * The publish sources are one component: `publish` takes the transports its options list (by
 * default every one the server offers), `ws-publish`, `http-publish` and `rtmp-publish` one each.
 * Every publisher is one stream of FLV bytes, whatever it came over.
 */
function publishSource(type: string, description: string, fixed: PublishTransport | undefined) {
  @injectable()
  class PublishSource implements SourceComponent<AnyTransportOptions> {
    readonly role = 'source';
    readonly type = type;
    readonly description = description;
    readonly produces = FLV_BYTES;
    readonly options = (fixed ? publishOptionsSchema : anyTransportOptions) as z.ZodType<AnyTransportOptions, z.ZodTypeDef, unknown>;

    // Optional so that loading the built-in components never requires the listeners; using this one does.
    constructor(
      @inject(LIVE_SERVER) @optional() readonly server: LiveServer | undefined,
      @inject(RTMP_SERVER) @optional() readonly rtmp: RtmpServer | undefined,
    ) {}

    create({ transports, ...options }: AnyTransportOptions): SourceInstance {
      const chosen = fixed ? [fixed] : (transports ?? (['ws', 'http', ...(this.rtmp?.enabled ? ['rtmp' as const] : [])] as PublishTransport[]));
      const acceptors = [...new Set(chosen)].map((transport) => publisherAcceptor(transport, this.type, this));
      return publishSessions(acceptors, options as PublishSourceOptions);
    }
  }
  return PublishSource;
}

/** WebSocket, HTTP and RTMP publishers in one source (the transports in `transports`). */
export const PublishSource = publishSource('publish', 'Takes live FLV from publishers over WebSocket, HTTP and RTMP, one stream per publisher', undefined);
/** `ws://HOST/APP/STREAM.flv` with subprotocol `publisher`, or `ws://HOST/publish?app=APP&stream=STREAM`; binary messages of FLV in any chunking. */
export const WsPublishSource = publishSource('ws-publish', 'Takes live FLV from publishers over WebSocket (ws:// and wss://), one stream per publisher', 'ws');
/** POST or PUT `/APP/STREAM.flv` with the FLV as the (endless, chunked) body: `ffmpeg -f flv http://HOST/APP/STREAM.flv`. */
export const HttpPublishSource = publishSource('http-publish', 'Takes live FLV from publishers as HTTP request bodies (POST/PUT), one stream per publisher', 'http');
/** RTMP publishers (OBS, ffmpeg `-f flv rtmp://HOST/APP/STREAM`, encoders) on `server.rtmp`'s port. */
export const RtmpPublishSource = publishSource('rtmp-publish', 'Takes live streams from RTMP publishers (OBS, ffmpeg, encoders), one stream per publisher', 'rtmp');
