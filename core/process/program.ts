import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

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

/**
 * The load-time problem of a component whose ffmpeg is not on PATH, naming the package to install,
 * or undefined when it is there (`validate` reports it with the file's other problems).
 */
export function ffmpegMissing(component: string, binary: string): string | undefined {
  if (findProgram(binary)) return undefined;
  return `${component}: ${binary} is not on PATH: install Debian's ffmpeg package (apt-get install ffmpeg), or set the component's \`ffmpeg:\` option to its path`;
}
