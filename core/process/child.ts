import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Logger } from '../logger.js';

/** Child processes this process started and has not seen exit: a drain leaves none behind (tests count them). */
const running = new Set<ChildProcess>();

/** How many children started through `startChild` are still running. */
export function runningChildren(): number {
  return running.size;
}

/** The pids of those children, with their program names. */
export function runningChildPids(): { pid: number; command: string }[] {
  return [...running].filter((child) => child.pid !== undefined).map((child) => ({ pid: child.pid!, command: child.spawnfile }));
}

export interface ChildOptions {
  command: string;
  args: readonly string[];
  /** Where stderr lines go (debug level); the last lines are kept for error messages either way. */
  logger?: Logger;
  stdin?: boolean;
  /** How many stderr lines to keep for `lastStderr()`. */
  stderrLines?: number;
}

/** After SIGTERM, how long before SIGKILL. */
const KILL_AFTER_MS = 2000;

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One supervised child process: stdout is the caller's, stderr is logged line by line and its tail kept
 * for error messages, and `stop()` always ends it (SIGTERM, then SIGKILL) and resolves once it exited.
 * Process exit kills whatever is left, so a crash of ours does not orphan an ffmpeg.
 */
export class ManagedChild {
  readonly process: ChildProcess;
  readonly exited: Promise<ChildExit>;
  /**
   * Resolves with the exit once the child exited and its stdout closed: 'exit' can come before the
   * last stdout data, so whoever reads stdout to the end waits for this, not for `exited`.
   */
  readonly finished: Promise<ChildExit>;
  #stderr: string[] = [];
  #partial = '';
  #exit: ChildExit | undefined;
  readonly #options: ChildOptions;

  constructor(options: ChildOptions) {
    this.#options = options;
    const stdio: StdioOptions = [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'];
    // Its own process group, so stopping it also stops what it started (`sh -c 'a | b'`, a wrapper script).
    this.process = spawn(options.command, [...options.args], { stdio, detached: true });
    const child = this.process;
    running.add(child);
    ensureExitHook();
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        running.delete(child);
        this.#exit ??= { code, signal };
        resolve(this.#exit);
      };
      child.once('exit', done);
      // spawn failures (ENOENT) emit 'error' and never 'exit'.
      child.once('error', (error) => {
        this.#stderr.push(error.message);
        if (child.pid === undefined) done(null, null);
      });
    });
    const stdoutClosed = new Promise<void>((resolve) => child.stdout!.once('close', resolve));
    this.finished = Promise.all([this.exited, stdoutClosed]).then(([exit]) => exit);
    child.stdin?.on('error', () => {}); // EPIPE when the child exits first: the exit tells the story.
    child.stdout!.on('error', () => {});
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => this.#onStderr(text));
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** The last stderr lines, joined: what an error message quotes. */
  lastStderr(): string {
    const tail = [...this.#stderr, ...(this.#partial ? [this.#partial] : [])];
    return tail.join(' | ').trim();
  }

  /** End the child: SIGTERM, then SIGKILL after KILL_AFTER_MS. Resolves when it has exited. */
  async stop(): Promise<void> {
    if (this.#exit || this.process.pid === undefined) return void (await this.exited);
    signalGroup(this.process, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.process, 'SIGKILL'), KILL_AFTER_MS);
    await this.exited;
    clearTimeout(timer);
  }

  #onStderr(text: string): void {
    const lines = (this.#partial + text).split(/\r?\n|\r/);
    this.#partial = lines.pop() ?? '';
    const keep = this.#options.stderrLines ?? 5;
    for (const line of lines) {
      if (line.trim() === '') continue;
      this.#options.logger?.debug({ pid: this.process.pid }, line);
      this.#stderr.push(line.trim());
      if (this.#stderr.length > keep) this.#stderr.shift();
    }
  }
}

let hooked = false;
function ensureExitHook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const child of running) signalGroup(child, 'SIGKILL');
  });
}

/** Signal the child's whole process group; the child alone if the group is gone. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}

/** Start a supervised child (see ManagedChild). */
export function startChild(options: ChildOptions): ManagedChild {
  return new ManagedChild(options);
}
