import type { Command } from './command.js';
import { probeCommand } from './probe.js';
import { runCommand } from './run.js';
import { validateCommand } from './validate.js';

/** Every `wsflv` subcommand, in the order `wsflv --help` lists them. */
export const commands: Command[] = [probeCommand, runCommand, validateCommand];
