import { App } from '../core/pipeline/app.js';
import { ConfigError, formatDiagnostic } from '../core/pipeline/config.js';
import { WsflvError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { builtinModules } from './builtins.js';
import { parseCommandArgs, type Command } from './command.js';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'Check pipeline files: YAML, component options, and the kinds of data on every link',
  help: `Usage: wsflv validate [FILE...]

Checks each pipeline file (default: pipeline.yaml) without running it: YAML syntax, environment
variables, unknown components (with the nearest name), every component's options against its schema,
and that each component consumes what the one before it produces. Plugins listed in the file are loaded.

Errors are printed as FILE:LINE:COL: message (at yaml.path). Exit code 0 when every file is valid, 1 otherwise.

Options:
  -q, --quiet   print nothing for valid files
  -h, --help    show this help`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { quiet: { type: 'boolean', short: 'q' } });
    const files = positionals.length > 0 ? positionals : ['pipeline.yaml'];
    let failed = 0;
    for (const file of files) {
      try {
        const app = await App.load(file, { modules: builtinModules, logger: createLogger({ level: 'silent' }) });
        if (!values.quiet) {
          console.log(`${file}: valid`);
          for (const p of app.config.pipelines) {
            const chain = [p.source, ...p.stages].map((c) => c.component.type).join(' → ');
            const sinks = p.sinks.map((s) => [...s.stages.map((b) => b.component.type), s.component.type].join(' → ')).join(', ');
            console.log(`  ${p.name}: ${chain} → [${sinks}]`);
          }
        }
      } catch (error) {
        failed++;
        if (error instanceof ConfigError) for (const d of error.diagnostics) console.error(formatDiagnostic(d));
        else if (error instanceof WsflvError || (error as NodeJS.ErrnoException).code === 'ENOENT') console.error(`${file}: ${(error as Error).message}`);
        else throw error;
      }
    }
    return failed > 0 ? 1 : 0;
  },
};
