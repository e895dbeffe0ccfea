import { inject, injectable, optional } from 'inversify';
import type { Observable } from 'rxjs';
import { z } from 'zod';
import { WsflvError } from '../core/errors.js';
import { LIVE_REGISTRY, requireRegistry, type LiveRegistry } from '../core/live/registry.js';
import type { PlayerTransport } from '../core/live/types.js';
import { CLOSE } from '../core/live/close.js';
import { RTMP_SERVER, type RtmpServer } from '../core/rtmp/server.js';
import type { MediaPacket } from '../core/media/packet.js';
import type { Component, FileProblem, Placement, SinkComponent, SinkInstance, StreamContext } from '../core/pipeline/component.js';
import type { ComponentUse, PipelineSpec } from '../core/pipeline/config.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';
import { compileMatch } from '../core/pipeline/match.js';
import { LIVE_SERVER, requireServer, type LiveServer } from '../core/server/listener.js';
import type { AcceptOptions } from '../core/server/registrations.js';
import { appsOption } from '../core/server/routes.js';
import { FEED_OPTIONS, feedChannel, liveSinkOptions, playOptions } from './live.js';

/** How players may connect to a play sink. */
export const PLAY_TRANSPORTS = ['ws', 'http', 'rtmp'] as const;
export type PlayTransport = (typeof PLAY_TRANSPORTS)[number];

const apps = appsOption('serve players');

/** Options of `ws-play` and `http-play`: the live options and which apps this sink serves. */
export const oneTransportOptions = liveSinkOptions.extend({ apps }).strict();

/** Options of `play`: the same, and the transports it serves. */
export const playSinkOptions = oneTransportOptions
  .extend({
    transports: z.array(z.enum(PLAY_TRANSPORTS)).min(1).optional().describe('how players may connect (default: WebSocket, HTTP, and RTMP when `server.rtmp` is set)'),
  })
  .strict();

export type PlaySinkOptions = z.infer<typeof playSinkOptions>;

/** A use of the live edge in a file, as the file check sees it. */
function isPlaySink(use: ComponentUse<Component>): boolean {
  return (use.component as Partial<PlaySinkComponent>).feedsLive === true;
}

function transportsOf(use: ComponentUse<Component>): readonly PlayTransport[] {
  const component = use.component as PlaySinkComponent;
  return (component.transports ?? use.options.transports ?? component.defaultTransports()) as readonly PlayTransport[];
}

/**
 * The live edge is one feed per stream: the first play sink of a pipeline to subscribe feeds the
 * stream's channel, and every player of that key, whatever its transport, gets that feed. So two
 * play sinks in one pipeline are allowed only when they would feed the same thing: no stages of
 * their own, the same feed options, no transport twice. Anything else would silently give one
 * sink's players the other's branch, so it is refused with what to write instead.
 */
export function checkPlaySinks(use: ComponentUse<Component>, pipeline: PipelineSpec): FileProblem[] {
  const plays = pipeline.sinks.filter(isPlaySink);
  if (plays.length < 2 || plays[0] !== use) return [];
  const problems: FileProblem[] = [];
  const names = plays.map((p) => `\`${p.component.type}\``).join(' and ');
  const withStages = plays.find((p) => (p as (typeof pipeline.sinks)[number]).stages.length > 0);
  if (withStages) {
    problems.push({
      path: withStages.path,
      message: `${names} in one pipeline feed one live stream per key, so \`${withStages.component.type}\`'s own stages would not reach its players: write one \`play\` sink with \`transports: [${plays.flatMap(transportsOf).join(', ')}]\` and put the stages on the pipeline, or serve the changed stream under another key (a \`republish\` sink with \`key: "{app}/{stream}_x"\`)`,
    });
  }
  for (const name of FEED_OPTIONS) {
    const values = plays.map((p) => JSON.stringify(p.options[name]));
    if (new Set(values).size > 1) {
      problems.push({ path: [...plays[1]!.path, name], message: `${names} feed one live stream per key and must agree on \`${name}\` (${values.join(' vs ')}): set it the same on both, or write one \`play\` sink with \`transports\`` });
    }
  }
  const seen = new Map<PlayTransport, ComponentUse<Component>>();
  for (const play of plays) {
    for (const transport of transportsOf(play)) {
      const first = seen.get(transport);
      if (first && first !== play) problems.push({ path: play.path, message: `\`${first.component.type}\` and \`${play.component.type}\` both serve ${transport} players of this pipeline: keep one` });
      seen.set(transport, play);
    }
  }
  return problems;
}

interface PlaySinkComponent extends SinkComponent {
  readonly feedsLive: true;
  /** Fixed for `ws-play`/`http-play`; undefined for `play`, whose `transports` option says. */
  readonly transports: readonly PlayTransport[] | undefined;
  /** What `play` serves without `transports`: WebSocket, HTTP, and RTMP when the server has it. */
  defaultTransports(): readonly PlayTransport[];
}

/**
 * The three play sinks are one component: `play` serves the transports its options list, `ws-play`
 * and `http-play` one each. Made by a factory rather than written three times.
 */
function playSink(type: string, description: string, transports: readonly PlayTransport[] | undefined) {
  @injectable()
  class PlaySink implements PlaySinkComponent {
    readonly role = 'sink';
    readonly type = type;
    readonly description = description;
    readonly consumes = MEDIA_PACKETS;
    readonly options = transports ? oneTransportOptions : playSinkOptions;
    readonly feedsLive = true;
    readonly transports = transports;

    constructor(
      // Optional so loading the built-in components never requires the live services; using this one does.
      @inject(LIVE_SERVER) @optional() readonly server: LiveServer | undefined,
      @inject(LIVE_REGISTRY) @optional() readonly registry: LiveRegistry | undefined,
      @inject(RTMP_SERVER) @optional() readonly rtmp: RtmpServer | undefined,
    ) {}

    defaultTransports(): readonly PlayTransport[] {
      return ['ws', 'http', ...(this.rtmp?.enabled ? (['rtmp'] as const) : [])];
    }

    check(use: ComponentUse<Component>, pipeline: PipelineSpec): FileProblem[] {
      return checkPlaySinks(use, pipeline);
    }

    /** Its streams are fed to the registry under the keys they came with. */
    writesKeys(_options: PlaySinkOptions, inputs: readonly string[]): readonly string[] {
      return inputs.filter((glob) => !glob.startsWith('!'));
    }

    create(options: PlaySinkOptions, _pipeline: string, placement?: Placement): SinkInstance {
      const registry = requireRegistry(this.registry, this.type);
      const perPlayer = playOptions(options);
      const accept: AcceptOptions = {
        apps: options.apps,
        ...(placement?.match ? { keys: compileMatch(placement.match) } : {}),
        // What a player would get at once (a HEAD is answered from this): 404 unless the stream is live or players may wait for it.
        probe: (key) => (registry.has(key) || (perPlayer.waitForPublisherMs ?? 0) > 0 ? undefined : { code: CLOSE.streamNotFound, reason: `no stream is being published at ${key}` }),
      };
      const handler = (player: PlayerTransport) => registry.play(player, perPlayer);
      const unregister = [...new Set(transports ?? options.transports ?? this.defaultTransports())].map((transport) => {
        if (transport !== 'rtmp') return requireServer(this.server, this.type).acceptPlayers(transport, handler, accept);
        if (!this.rtmp?.enabled) throw new WsflvError('WSFLV_ERR_NO_RTMP', `\`${this.type}\` serves RTMP players: turn RTMP on in \`server.rtmp\` (e.g. \`rtmp: { port: 1935 }\`)`);
        return this.rtmp.acceptPlayers(handler, accept);
      });
      return {
        consume: (ctx: StreamContext, data$: Observable<MediaPacket>) => feedChannel(registry, ctx, data$, options),
        close: () => unregister.forEach((undo) => undo()),
      };
    }
  }
  return PlaySink;
}

/** Live players over every transport the server offers (or those in `transports`). */
export const PlaySink = playSink('play', 'Serves live streams to players over WebSocket-FLV and HTTP-FLV (or the transports listed)', undefined);
/** WebSocket-FLV players: `ws://HOST/APP/STREAM.flv` (no subprotocol) or `ws://HOST/play?app=…&stream=…`. */
export const WsPlaySink = playSink('ws-play', 'Serves live streams to WebSocket-FLV players (ws:// and wss://)', ['ws']);
/** HTTP-FLV players: `GET http://HOST/APP/STREAM.flv` (or `/play?app=…&stream=…`), chunked, no caching. */
export const HttpPlaySink = playSink('http-play', 'Serves live streams to HTTP-FLV players (http:// and https://)', ['http']);
/** RTMP players: `ffplay rtmp://HOST:1935/APP/STREAM`, `ffmpeg -i rtmp://…`, VLC (needs `server.rtmp`). */
export const RtmpPlaySink = playSink('rtmp-play', 'Serves live streams to RTMP players (rtmp:// and rtmps://)', ['rtmp']);
