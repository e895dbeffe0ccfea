import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PlayerTransport, PublishConnection } from '../live/types.js';

/**
 * What components register with a listener (the HTTP/WebSocket one, the RTMP one): who takes the
 * publishers and players of which keys, and the routes later features mount.
 */

/** Which kind of connection of this listener a handler takes: WebSocket (ws and wss) or HTTP (http and https). */
export type ListenerKind = 'ws' | 'http';

export interface AcceptOptions {
  /** Only streams of these apps (default: every app). Lets two pipelines split the URL space. */
  apps?: readonly string[];
  /** Only streams whose `APP/STREAM` key this takes (a component's `match:`); with `apps`, both must agree. */
  keys?(key: string): boolean;
  /**
   * Players only: why a player of `key` would be refused at once (a close code and reason), or
   * undefined when it would be served or kept waiting. A HEAD request is answered from this alone,
   * since it opens nothing.
   */
  probe?(key: string): { code: number; reason: string } | undefined;
}

export type PublishHandler = (connection: PublishConnection) => void;
export type PlayerHandler = (player: PlayerTransport) => void;

/** A request on a mounted route, with its URL already parsed. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: { pathname: string; query: Record<string, string> }) => unknown;

/** Undo a registration (a source or sink that stops serving). */
export type Unregister = () => void;


export interface Registration<H> {
  handler: H;
  apps: ReadonlySet<string> | undefined;
  keys: AcceptOptions['keys'];
  probe: AcceptOptions['probe'];
}

/** Adds a registration; the returned function takes it back. */
export function register<H>(list: Registration<H>[], handler: H, options: AcceptOptions): Unregister {
  const entry: Registration<H> = { handler, apps: options.apps ? new Set(options.apps) : undefined, keys: options.keys, probe: options.probe };
  list.push(entry);
  return () => {
    const at = list.indexOf(entry);
    if (at >= 0) list.splice(at, 1);
  };
}
