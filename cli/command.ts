import { parseArgs, type ParseArgsConfig } from 'node:util';

/** One `wsflv` subcommand. `run` returns the process exit code. */
export interface Command {
  name: string;
  summary: string;
  /** Full `--help` text: usage line, arguments, options, examples. */
  help: string;
  run(argv: string[]): Promise<number>;
}

/** Wrong arguments: printed with the usage line, exit code 2. */
export class UsageError extends Error {}

/** parseArgs with errors turned into UsageError, so every command reports bad flags the same way. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
