import type { Command } from './command.js';
import { UsageError } from './command.js';
import { commands } from './commands.js';

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'wsflv: live audio/video over WebSocket-FLV and HTTP-FLV, as a stream-pipeline framework',
    '',
    'Usage: wsflv <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `wsflv <command> --help` for the options of one command.',
  ].join('\n');
}

/** Entry point of the `wsflv` command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(overview());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    const { createRequire } = await import('node:module');
    console.log(createRequire(import.meta.url)('../package.json').version);
    return 0;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`wsflv: unknown command '${name}'\n\n${overview()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`wsflv ${command.name}: ${err.message}\n\n${command.help}`);
      return 2;
    }
    throw err;
  }
}
