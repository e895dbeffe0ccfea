import type { Command } from './command.js';
import { playCommand } from './play.js';
import { probeCommand } from './probe.js';
import { publishCommand } from './publish.js';
import { runCommand } from './run.js';
import { signCommand } from './sign.js';
import { validateCommand } from './validate.js';

/** Every `wsflv` subcommand, in the order `wsflv --help` lists them. */
export const commands: Command[] = [probeCommand, runCommand, validateCommand, publishCommand, playCommand, signCommand];
