import type { ChildProcess } from 'node:child_process';
import type { ChildMessage } from './load.js';

/** Any load generator's messages: a `type`, and `message` on its `error`. */
interface Message {
  type: string;
}

/** Wait for one message of a type from a load generator, or fail on its error / exit / timeout. */
export function nextMessage<M extends Message = ChildMessage, T extends M['type'] = M['type']>(load: ChildProcess, type: T, timeoutMs: number): Promise<Extract<M, { type: T }>> {
  return new Promise((resolveMessage, reject) => {
    const timer = setTimeout(() => finish(new Error(`load generator: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: M) => {
      if (m.type === type) finish(undefined, m as Extract<M, { type: T }>);
      else if (m.type === 'error') finish(new Error(`load generator: ${(m as { message?: string }).message}`));
    };
    const onExit = (code: number | null) => finish(new Error(`load generator exited (${code}) while waiting for '${type}'`));
    function finish(error?: Error, message?: Extract<M, { type: T }>) {
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
