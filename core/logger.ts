import type { ServiceIdentifier } from 'inversify';
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type Logger = PinoLogger;

export const LOGGER: ServiceIdentifier<Logger> = Symbol.for('wsflv.logger');

/**
 * Structured JSON logs on stderr (stdout stays free for command output such as `probe --json`).
 * The level comes from WSFLV_LOG_LEVEL (default `info`); tests set it to `silent` or `warn`.
 */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const level = options.level ?? process.env.WSFLV_LOG_LEVEL ?? 'info';
  return pino(
    { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
    options.destination ?? pino.destination({ dest: 2, sync: true }),
  );
}
