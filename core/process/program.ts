import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { WsflvError } from '../errors.js';

/** A component needs a program (ffmpeg) that is not on PATH. */
export class ProgramMissingError extends WsflvError {
  constructor(program: string, hint: string) {
    super('WSFLV_ERR_PROGRAM_MISSING', `${program} is not on PATH: ${hint}`);
  }
}

/** The full path of `program` on PATH, or undefined. An absolute or relative path is checked as it is. */
export function findProgram(program: string, path = process.env.PATH ?? ''): string | undefined {
  const candidates = program.includes('/') ? [program] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, program));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const FFMPEG_HINT = "install Debian's ffmpeg package (apt-get install ffmpeg), or set the component's `ffmpeg:` option to its path";

/** The ffmpeg binary to run, or ProgramMissingError naming the package to install. */
export function requireFfmpeg(binary = 'ffmpeg'): string {
  const found = findProgram(binary);
  if (!found) throw new ProgramMissingError(binary, FFMPEG_HINT);
  return found;
}
