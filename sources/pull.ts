import { inject, injectable, optional } from 'inversify';
import { finalize, Observable } from 'rxjs';
import { z } from 'zod';
import { LIVE_REGISTRY, requireRegistry, type LiveRegistry } from '../core/live/registry.js';
import { LOGGER, type Logger } from '../core/logger.js';
import type { SourceComponent, SourceInstance, StreamSession } from '../core/pipeline/component.js';
import { dropFlvPreamble } from '../core/flv/header-strip.js';
import { FLV_BYTES } from '../core/pipeline/kinds.js';
import { Backoff } from '../core/relay/backoff.js';
import { remoteFlv } from '../core/relay/downlink.js';

const options = z
  .object({
    url: z.string().regex(/^(rtmps?|https?|wss?):\/\//, 'an rtmp://, rtmps://, http(s):// or ws(s):// URL').describe('the remote stream'),
    key: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'APP/STREAM').describe('the local key it is served under'),
    retryMinMs: z.number().int().min(100).max(600_000).default(1000).describe('first wait before reconnecting; doubles up to retryMaxMs'),
    retryMaxMs: z.number().int().min(100).max(3_600_000).default(30_000),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000).describe('bound on connecting and on the remote\'s first answer'),
    mode: z.enum(['always', 'on-demand']).default('always').describe('always: pull while the pipeline runs; on-demand: from the key\'s first player until lingerMs after its last (players must wait: waitForPublisherMs on the play sinks)'),
    lingerMs: z.number().int().min(0).max(3_600_000).default(10_000).describe('on-demand: how long the pull goes on after the last player left'),
  })
  .strict();

type Options = z.infer<typeof options>;

/** A pull connection up this long counts as having worked: its end resets the backoff. */
const STABLE_MS = 10_000;

/**
 * Pulls a remote stream (another server's RTMP, HTTP-FLV or WebSocket-FLV) into a local key, for as
 * long as the pipeline runs: when the remote ends or fails, it reconnects with backoff, and the
 * local stream goes on as one (the next connection's FLV header is dropped; the `timestamps` stage
 * makes its timestamps follow on, players get its new sequence headers and resume at its keyframe).
 * With `mode: on-demand` it pulls only while someone watches: the key's first player starts it, and
 * it stops `lingerMs` after the last one left (the next player starts it again).
 */
@injectable()
export class PullSource implements SourceComponent<Options> {
  readonly role = 'source';
  readonly type = 'pull';
  readonly description = 'Pulls a remote RTMP, HTTP-FLV or WebSocket-FLV stream into a local key, reconnecting with backoff';
  readonly produces = FLV_BYTES;
  readonly options = options;

  constructor(
    @inject(LOGGER) private readonly logger: Logger,
    @inject(LIVE_REGISTRY) @optional() private readonly registry: LiveRegistry | undefined,
  ) {}

  create(config: Options, pipeline: string): SourceInstance {
    const logger = this.logger.child({ pipeline, component: this.type, stream: config.key });
    if (config.mode === 'on-demand') return this.#onDemand(config, requireRegistry(this.registry, `${this.type} (mode: on-demand)`), logger);
    const pull = this.#pull(config, logger);
    let stopSessions: (() => void) | undefined;
    let stopped = false;
    return {
      sessions$: new Observable<StreamSession>((subscriber) => {
        if (stopped) return subscriber.complete();
        subscriber.next(this.#session(config, pull.data$, logger));
        stopSessions = () => subscriber.complete();
        return undefined;
      }),
      stop: () => {
        stopped = true;
        pull.stop();
        stopSessions?.();
      },
    };
  }

  /** One session per spell of demand: started by the key's first player, ended `lingerMs` after its last. */
  #onDemand(config: Options, registry: LiveRegistry, logger: Logger): SourceInstance {
    let stopped = false;
    let active: { stop(): void } | undefined;
    let linger: NodeJS.Timeout | undefined;
    let unwatch: (() => void) | undefined;
    let stopSessions: (() => void) | undefined;
    const end = () => {
      clearTimeout(linger);
      linger = undefined;
      active?.stop();
      active = undefined;
    };
    return {
      sessions$: new Observable<StreamSession>((subscriber) => {
        if (stopped) return subscriber.complete();
        logger.info({ url: config.url }, 'pull on demand: waiting for a player');
        unwatch = registry.watchPlayers(config.key, (players) => {
          if (stopped) return;
          if (players > 0) {
            clearTimeout(linger);
            linger = undefined;
            if (active) return;
            logger.info({ url: config.url, players }, 'pull on demand: a player asks; pulling');
            const pull = this.#pull(config, logger);
            active = pull;
            // However the session ends (stopped, or failed in the pipeline), the next player starts a new one.
            const data$ = pull.data$.pipe(finalize(() => {
              if (active === pull) active = undefined;
            }));
            subscriber.next(this.#session(config, data$, logger));
          } else if (active && !linger) {
            linger = setTimeout(() => {
              logger.info({ url: config.url, lingerMs: config.lingerMs }, 'pull on demand: no player left; stopping');
              end();
            }, config.lingerMs);
          }
        });
        stopSessions = () => subscriber.complete();
        return () => unwatch?.();
      }),
      stop: () => {
        stopped = true;
        unwatch?.();
        end();
        stopSessions?.();
      },
    };
  }

  #session(config: Options, data$: Observable<Buffer>, logger: Logger): StreamSession {
    return {
      key: config.key,
      origin: { transport: 'pull', address: config.url },
      data$,
      abort: (error) => logger.warn({ err: error }, 'pulled stream failed in the pipeline'),
    };
  }

  /**
   * The remote's FLV for as long as it is subscribed, reconnecting with backoff; `stop` completes it
   * (the stream ends as a publisher leaving would).
   */
  #pull(config: Options, logger: Logger): { data$: Observable<Buffer>; stop(): void } {
    let stopped = false;
    let stopPull: (() => void) | undefined;
    const data$ = new Observable<Buffer>((subscriber) => {
      const backoff = new Backoff(config.retryMinMs, config.retryMaxMs);
      let timer: NodeJS.Timeout | undefined;
      let current: { unsubscribe(): void } | undefined;
      let first = true;
      const connect = () => {
        if (stopped) return;
        const strip = first ? (c: Buffer) => c : dropFlvPreamble();
        let got = false;
        let since = 0;
        // Only a connection that lasted starts the waits over: a remote that answers and cuts at once keeps backing off.
        const ended = (why: string) => {
          if (got && Date.now() - since >= STABLE_MS) backoff.reset();
          retry(why);
        };
        current = remoteFlv(config.url, config.timeoutMs).subscribe({
          next: (chunk) => {
            if (!got) {
              got = true;
              since = Date.now();
              logger.info({ url: config.url }, first ? 'pulling' : 'pulling again');
              first = false;
            }
            const rest = strip(chunk);
            if (rest.length > 0) subscriber.next(rest);
          },
          error: (error: Error) => ended(error.message),
          complete: () => ended('the remote ended the stream'),
        });
      };
      const retry = (why: string) => {
        if (stopped) return;
        const wait = backoff.next();
        logger.warn({ url: config.url, retryInMs: wait }, `pull: ${why}; retrying`);
        timer = setTimeout(connect, wait);
      };
      stopPull = () => {
        clearTimeout(timer);
        current?.unsubscribe();
        subscriber.complete();
      };
      if (stopped) subscriber.complete();
      else connect();
      return () => {
        stopPull = undefined;
        clearTimeout(timer);
        current?.unsubscribe();
      };
    });
    return {
      data$,
      stop: () => {
        stopped = true;
        stopPull?.();
      },
    };
  }
}
