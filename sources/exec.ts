import { inject, injectable } from 'inversify';
import { Observable } from 'rxjs';
import { z } from 'zod';
import { dropFlvPreamble } from '../core/flv/header-strip.js';
import { LOGGER, type Logger } from '../core/logger.js';
import type { ComponentUse } from '../core/pipeline/config.js';
import type { Component, FileProblem, SourceComponent, SourceInstance, StreamSession } from '../core/pipeline/component.js';
import { FLV_BYTES } from '../core/pipeline/kinds.js';
import { findProgram } from '../core/process/program.js';
import { startChild, type ManagedChild } from '../core/process/child.js';
import { Backoff } from '../core/relay/backoff.js';

const options = z
  .object({
    command: z
      .union([z.string().min(1), z.array(z.string()).min(1)])
      .describe('the program and its arguments as a list (run as is), or one string (run by /bin/sh -c); it writes FLV on stdout'),
    key: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'APP/STREAM').describe('the stream key its output is served under'),
    restart: z.enum(['always', 'on-failure', 'never']).default('always').describe('run it again when it exits (on-failure: only when it fails)'),
    retryMinMs: z.number().int().min(100).max(600_000).default(1000).describe('first wait before a restart; doubles up to retryMaxMs'),
    retryMaxMs: z.number().int().min(100).max(3_600_000).default(30_000),
    firstByteTimeoutMs: z.number().int().min(100).max(600_000).default(15_000).describe('a run that writes nothing for this long is killed'),
    stallTimeoutMs: z.number().int().min(100).max(600_000).default(15_000).describe('a run that stops writing for this long is killed'),
  })
  .strict();

type Options = z.infer<typeof options>;

function argv(command: Options['command']): [string, string[]] {
  return typeof command === 'string' ? ['/bin/sh', ['-c', command]] : [command[0]!, command.slice(1)];
}

/** A run lasting this long counts as a success for the backoff: the next failure waits retryMinMs again. */
const HEALTHY_RUN_MS = 10_000;

/**
 * Runs a command that writes FLV on its stdout (`ffmpeg -re -i rtsp://… -c copy -f flv -`, a file loop, a
 * test pattern, a capture device) and serves what it writes as the stream `key`. Each run is one session,
 * as if a publisher connected: when the command exits, fails in the pipeline (garbage on stdout), writes
 * nothing or stalls, it is stopped, the reason logged with its last stderr lines, and (per `restart`) run
 * again with backoff; live players wait for it through the publisher grace period. Its stderr goes to the
 * log at debug level. Stopping the pipeline stops the command.
 */
@injectable()
export class ExecSource implements SourceComponent<Options> {
  readonly role = 'source';
  readonly type = 'exec';
  readonly description = 'Runs a command that writes FLV on stdout and serves it as a stream, restarting it with backoff';
  readonly produces = FLV_BYTES;
  readonly options = options;

  constructor(@inject(LOGGER) private readonly logger: Logger) {}

  check(use: ComponentUse<Component>): FileProblem[] {
    const [program] = argv((use.options as Options).command);
    if (findProgram(program)) return [];
    return [{ message: `exec: ${program} is not on PATH (install it, or give its full path)`, path: ['command'] }];
  }

  writesKeys(config: Options): readonly string[] {
    return [config.key];
  }

  create(config: Options, pipeline: string): SourceInstance {
    const logger = this.logger.child({ pipeline, component: this.type, stream: config.key });
    const [program, args] = argv(config.command);
    const backoff = new Backoff(config.retryMinMs, config.retryMaxMs);
    let stopped = false;
    let current: ManagedChild | undefined;
    let restartTimer: NodeJS.Timeout | undefined;
    let sessions: { complete(): void } | undefined;

    /** One run of the command as one session's bytes; resolves `ended` with whether it failed. */
    const run = (runIndex: number, ended: (failed: boolean) => void): StreamSession<Buffer> => {
      let failure: string | undefined;
      let child: ManagedChild | undefined;
      const data$ = new Observable<Buffer>((subscriber) => {
        const started = Date.now();
        child = startChild({ command: program, args, logger });
        current = child;
        const strip = runIndex === 0 ? (chunk: Buffer) => chunk : dropFlvPreamble();
        let wrote = false;
        let timer = setTimeout(() => fail(`wrote nothing for ${config.firstByteTimeoutMs} ms`), config.firstByteTimeoutMs);
        const fail = (why: string) => {
          failure ??= why;
          void child!.stop();
        };
        const stdout = child.process.stdout!;
        stdout.on('data', (chunk: Buffer) => {
          if (!wrote) {
            wrote = true;
            logger.info({ pid: child!.pid }, runIndex === 0 ? 'command started' : 'command started again');
          }
          clearTimeout(timer);
          timer = setTimeout(() => fail(`stopped writing for ${config.stallTimeoutMs} ms`), config.stallTimeoutMs);
          const rest = strip(chunk);
          if (rest.length > 0) subscriber.next(rest);
        });
        void child.finished.then(({ code, signal }) => {
          clearTimeout(timer);
          const failed = failure !== undefined || code !== 0;
          if (Date.now() - started >= HEALTHY_RUN_MS) backoff.reset();
          const why = failure ?? (code === 0 ? 'exited' : code === null ? `was killed (${signal})` : `exited with code ${code}`);
          const stderr = child!.lastStderr();
          if (!stopped) logger[failed ? 'warn' : 'info']({ pid: child!.pid, code, signal, stderr: stderr || undefined }, `command ${why}`);
          subscriber.complete();
          ended(failed);
        });
        return () => {
          clearTimeout(timer);
          void child!.stop();
        };
      });
      return {
        key: config.key,
        origin: { transport: 'exec', address: program },
        data$,
        abort: (error) => {
          failure ??= `output refused: ${error.message}`;
          void child?.stop();
        },
        pause: () => child?.process.stdout?.pause(),
        resume: () => child?.process.stdout?.resume(),
      };
    };

    const sessions$ = new Observable<StreamSession>((subscriber) => {
      let runIndex = 0;
      sessions = subscriber;
      const next = () => {
        if (stopped) return subscriber.complete();
        subscriber.next(
          run(runIndex++, (failed) => {
            current = undefined;
            const again = !stopped && (config.restart === 'always' || (config.restart === 'on-failure' && failed));
            if (!again) return subscriber.complete();
            const wait = backoff.next();
            logger.info({ retryInMs: wait }, 'restarting the command');
            restartTimer = setTimeout(next, wait);
          }),
        );
      };
      next();
      return () => {
        clearTimeout(restartTimer);
        sessions = undefined;
      };
    });

    return {
      sessions$,
      // A running command ends its session, which then completes the source (stopped is set); between runs, it completes here.
      stop: async () => {
        stopped = true;
        clearTimeout(restartTimer);
        if (current) await current.stop();
        else sessions?.complete();
      },
    };
  }
}
