import type { ChildProcess } from 'node:child_process';
import type { ChildMessage } from './load.js';

/** Wait for one message of a type from the load generator, or fail on its error / exit / timeout. */
export function nextMessage<T extends ChildMessage['type']>(load: ChildProcess, type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolveMessage, reject) => {
    const timer = setTimeout(() => finish(new Error(`load generator: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: ChildMessage) => {
      if (m.type === type) finish(undefined, m as Extract<ChildMessage, { type: T }>);
      else if (m.type === 'error') finish(new Error(`load generator: ${m.message}`));
    };
    const onExit = (code: number | null) => finish(new Error(`load generator exited (${code}) while waiting for '${type}'`));
    function finish(error?: Error, message?: Extract<ChildMessage, { type: T }>) {
      clearTimeout(timer);
      load.off('message', onMessage);
      load.off('exit', onExit);
      if (error) reject(error);
      else resolveMessage(message!);
    }
    load.on('message', onMessage);
    load.on('exit', onExit);
  });
}
