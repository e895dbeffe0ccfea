import type { Command } from './command.js';

/** Every `wsflv` subcommand, in the order `wsflv --help` lists them. */
export const commands: Command[] = [];
