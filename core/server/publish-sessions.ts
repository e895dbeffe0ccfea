import { Observable, type Subscriber } from 'rxjs';
import { finalize } from 'rxjs/operators';
import { z } from 'zod';
import type { PublishConnection } from '../live/types.js';
import { CLOSE } from '../live/close.js';
import type { SourceInstance, StreamSession } from '../pipeline/component.js';
import { closeReasonFor } from './close.js';
import { idleTimeout } from './idle-timeout.js';
import type { AcceptOptions, Unregister } from './registrations.js';
import { appsOption } from './routes.js';

/** Options every publish source takes, so ws-publish and http-publish read the same in YAML. */
export const publishOptionsSchema = z
  .object({
    apps: appsOption('take publishers'),
    idleTimeoutMs: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe('close a publisher that sends nothing for this long (close 4408 / HTTP 408); 0 = never'),
  })
  .strict();

export type PublishSourceOptions = z.infer<typeof publishOptionsSchema>;

/**
 * The body of a publish source: one StreamSession per publisher arriving through `acceptors` (each a
 * listener's acceptPublishers for one transport). A session's
 * abort() closes its publisher with a code naming the failure (1007 bad FLV, 1009 tag too large);
 * stop() refuses newcomers and tells current publishers the server is going away.
 */
export function publishSessions(
  acceptors: readonly ((handler: (connection: PublishConnection) => void, options: AcceptOptions) => Unregister)[],
  options: PublishSourceOptions,
): SourceInstance {
  const active = new Set<PublishConnection>();
  // Publishers can arrive between the listener starting and the runtime subscribing: they wait here.
  const pending: StreamSession[] = [];
  let subscriber: Subscriber<StreamSession> | undefined;
  let stopped = false;

  const accept = (connection: PublishConnection) => {
    if (stopped) {
      connection.close(CLOSE.goingAway, 'server shutting down');
      return;
    }
    active.add(connection);
    const session = toSession(connection, options, () => active.delete(connection));
    if (subscriber) subscriber.next(session);
    else pending.push(session);
  };
  const unregister = acceptors.map((acceptPublishers) => acceptPublishers(accept, { apps: options.apps }));

  const sessions$ = new Observable<StreamSession>((s) => {
    subscriber = s;
    for (const session of pending.splice(0)) s.next(session);
    if (stopped) s.complete();
    return () => {
      if (subscriber === s) subscriber = undefined;
    };
  });

  return {
    sessions$,
    stop() {
      if (stopped) return;
      stopped = true;
      for (const off of unregister) off();
      for (const connection of [...active]) connection.close(CLOSE.goingAway, 'server shutting down');
      subscriber?.complete();
    },
  };
}

function toSession(connection: PublishConnection, options: PublishSourceOptions, done: () => void): StreamSession<Buffer> {
  let data$ = connection.data$;
  const idle = options.idleTimeoutMs;
  if (idle > 0) {
    data$ = data$.pipe(idleTimeout(idle, () => connection.close(CLOSE.publisherIdle, `no data for ${idle / 1000} s`)));
  }
  return {
    key: connection.key,
    origin: { transport: connection.transport, address: connection.address, query: connection.query },
    data$: data$.pipe(finalize(done)),
    abort(error: Error) {
      const { code, reason, detail } = closeReasonFor(error);
      connection.close(code, reason, detail);
    },
  };
}
