import { spawn, type ChildProcess } from 'node:child_process';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Start `wsflv ARGS` as a real child process. */
export function startCli(args: string[], options: { env?: Record<string, string>; input?: Buffer } = {}): { child: ChildProcess; result: Promise<CliResult> } {
  const child = spawn(process.execPath, ['bin/wsflv.js', ...args], {
    env: { ...process.env, WSFLV_LOG_LEVEL: 'info', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  if (options.input) child.stdin!.end(options.input);
  else child.stdin!.end();
  const result = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, result };
}

/** Run `wsflv ARGS` to completion. */
export function runCli(args: string[], options: { env?: Record<string, string>; input?: Buffer } = {}): Promise<CliResult> {
  return startCli(args, options).result;
}

/** Resolves once the child's stderr has matched `pattern`. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; saw: ${seen.slice(-2000)}`)), timeoutMs);
    const onData = (d: Buffer) => {
      seen += d;
      const match = pattern.exec(seen);
      if (match) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolve(match[0]);
      }
    };
    child.stderr!.on('data', onData);
  });
}
