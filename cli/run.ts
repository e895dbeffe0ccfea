import { App } from '../core/pipeline/app.js';
import type { ClusterSectionConfig } from '../core/cluster/config.js';
import { isWorker, STOP_MESSAGE, superviseWorkers, workerCount } from '../core/cluster/supervisor.js';
import { SERVER_CONFIG } from '../core/server/tokens.js';
import { ConfigError, formatDiagnostic } from '../core/pipeline/config.js';
import { WsflvError } from '../core/errors.js';
import { builtinModules } from './builtins.js';
import { parseCommandArgs, UsageError, type Command } from './command.js';
import { formatBytes, ProgressBar } from './progress.js';

export const runCommand: Command = {
  name: 'run',
  summary: 'Run the pipelines of a pipeline file (a live server, or a headless file-to-file job)',
  help: `Usage: wsflv run [FILE] [options]

Runs every pipeline in FILE (default: pipeline.yaml). A pipeline whose sources are files ends by
itself when they are read; a live server runs until SIGINT or SIGTERM, then drains: sources stop
first, sinks flush and close their files, within --drain-timeout. A second signal exits at once.

On a terminal, headless runs show a progress bar; every run ends with a one-line summary.
Exit code: a run stopped by a signal exits 0 when the drain was clean (a live server's failed
publishers are the publishers' problem, logged with their reason), 1 when it timed out. A run that
ended by itself exits 1 when any stream or source failed, else 0. 2 on bad usage.

With \`server.workers: N\` (or --workers), N worker processes run the file on the one port, tied
together through NATS (\`server.cluster.nats\`, or a local nats-server started and supervised here);
a worker that dies is restarted.

Options:
      --drain-timeout MS   hard deadline for a graceful stop (default 5000)
      --workers N|auto     worker processes on the one port (overrides server.workers; auto: one per core)
  -h, --help               show this help`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { 'drain-timeout': { type: 'string' }, workers: { type: 'string' } });
    if (positionals.length > 1) throw new UsageError('give one pipeline file');
    const file = positionals[0] ?? 'pipeline.yaml';
    const drainTimeout = Number(values['drain-timeout'] ?? 5000);
    if (!Number.isFinite(drainTimeout) || drainTimeout < 0) throw new UsageError('--drain-timeout must be a number of milliseconds');
    const workersFlag = values.workers === undefined ? undefined : values.workers === 'auto' ? 'auto' : Number(values.workers);
    if (workersFlag !== undefined && workersFlag !== 'auto' && !(Number.isInteger(workersFlag) && workersFlag >= 1 && workersFlag <= 256)) {
      throw new UsageError('--workers must be a number from 1 to 256, or auto');
    }

    let app: App;
    try {
      app = await App.load(file, { modules: builtinModules });
    } catch (error) {
      if (error instanceof ConfigError) {
        for (const d of error.diagnostics) console.error(formatDiagnostic(d));
        return 1;
      }
      if (error instanceof WsflvError || (error as NodeJS.ErrnoException).code === 'ENOENT') {
        console.error(`wsflv run: ${(error as Error).message}`);
        return 1;
      }
      throw error;
    }

    if (!isWorker()) {
      const server = app.container.isBound(SERVER_CONFIG) ? (app.container.get(SERVER_CONFIG) as unknown as Partial<ClusterSectionConfig>) : {};
      const workers = workerCount(workersFlag ?? server.workers ?? 1);
      if (workers > 1) {
        // This process only supervises: the workers load the file again, each on its own.
        try {
          return await superviseWorkers({ workers, nats: server.cluster?.nats, node: server.cluster?.node, logger: app.logger, drainTimeoutMs: drainTimeout });
        } catch (error) {
          if (!(error instanceof WsflvError)) throw error;
          console.error(`wsflv run: ${error.message}`);
          return 1;
        }
      }
    }

    const startedAt = performance.now();
    const bar = new ProgressBar();
    let stopping: Promise<boolean> | undefined;
    let requestStop!: () => void;
    const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
    const stop = (signal: string) => {
      if (stopping) {
        app.logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      app.logger.info({ signal, deadlineMs: drainTimeout }, 'stopping: draining streams');
      stopping = app.stop(drainTimeout);
      requestStop();
    };
    const onSigint = () => stop('SIGINT');
    const onSigterm = () => stop('SIGTERM');
    // A worker's supervisor asks by message; a stop already under way is not forced by it.
    const onMessage = (message: unknown) => {
      if (message === STOP_MESSAGE && !stopping) stop('supervisor');
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    process.on('message', onMessage);
    try {
      try {
        await app.start();
      } catch (error) {
        if (!(error instanceof WsflvError)) throw error;
        console.error(`wsflv run: ${error.message}`);
        await app.stop(0);
        return 1;
      }
      bar.start(() => app.runtime.active);
      await Promise.race([app.runtime.done, stopRequested]);
      const stoppedBySignal = stopping !== undefined;
      const clean = await (stopping ?? app.stop(drainTimeout));
      bar.stop();
      const { ended, failed, failedSources, units } = app.runtime.summary;
      const seconds = (performance.now() - startedAt) / 1000;
      const rate = units > 0 ? `, ${formatBytes(units)} read (${formatBytes(units / seconds)}/s)` : '';
      console.error(`wsflv run: ${ended} stream${ended === 1 ? '' : 's'} ended, ${failed} failed${rate} in ${seconds.toFixed(2)} s${failedSources ? `; ${failedSources} source${failedSources === 1 ? '' : 's'} failed` : ''}${clean ? '' : '; drain timed out'}`);
      if (stoppedBySignal) return clean ? 0 : 1;
      return failed > 0 || failedSources > 0 || !clean ? 1 : 0;
    } finally {
      bar.stop();
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      process.off('message', onMessage);
    }
  },
};
