import { inject, injectable } from 'inversify';
import { Observable } from 'rxjs';
import { z } from 'zod';
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
  })
  .strict();

type Options = z.infer<typeof options>;

/**
 * Pulls a remote stream (another server's RTMP, HTTP-FLV or WebSocket-FLV) into a local key, for as
 * long as the pipeline runs: when the remote ends or fails, it reconnects with backoff, and the
 * local stream goes on as one (the next connection's FLV header is dropped; the `timestamps` stage
 * makes its timestamps follow on, players get its new sequence headers and resume at its keyframe).
 */
@injectable()
export class PullSource implements SourceComponent<Options> {
  readonly role = 'source';
  readonly type = 'pull';
  readonly description = 'Pulls a remote RTMP, HTTP-FLV or WebSocket-FLV stream into a local key, reconnecting with backoff';
  readonly produces = FLV_BYTES;
  readonly options = options;

  constructor(@inject(LOGGER) private readonly logger: Logger) {}

  create(config: Options, pipeline: string): SourceInstance {
    const logger = this.logger.child({ pipeline, component: this.type, stream: config.key });
    // Stopping ends the pull (its data$ completes) and the source (its sessions$ completes).
    let stopPull: (() => void) | undefined;
    let stopSessions: (() => void) | undefined;
    let stopped = false;
    const data$ = new Observable<Buffer>((subscriber) => {
      const backoff = new Backoff(config.retryMinMs, config.retryMaxMs);
      let timer: NodeJS.Timeout | undefined;
      let current: { unsubscribe(): void } | undefined;
      let first = true;
      const connect = () => {
        if (stopped) return;
        const strip = first ? (c: Buffer) => c : dropFlvPreamble();
        let got = false;
        current = remoteFlv(config.url, config.timeoutMs).subscribe({
          next: (chunk) => {
            if (!got) {
              got = true;
              backoff.reset();
              logger.info({ url: config.url }, first ? 'pulling' : 'pulling again');
              first = false;
            }
            const rest = strip(chunk);
            if (rest.length > 0) subscriber.next(rest);
          },
          error: (error: Error) => retry(error.message),
          complete: () => retry('the remote ended the stream'),
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
      connect();
      return () => {
        stopPull = undefined;
        clearTimeout(timer);
        current?.unsubscribe();
      };
    });
    const session: StreamSession = {
      key: config.key,
      origin: { transport: 'pull', address: config.url },
      data$,
      abort: (error) => logger.warn({ err: error }, 'pulled stream failed in the pipeline'),
    };
    return {
      sessions$: new Observable<StreamSession>((subscriber) => {
        if (stopped) return subscriber.complete();
        subscriber.next(session);
        stopSessions = () => subscriber.complete();
        return undefined;
      }),
      stop: () => {
        stopped = true;
        stopPull?.();
        stopSessions?.();
      },
    };
  }
}
