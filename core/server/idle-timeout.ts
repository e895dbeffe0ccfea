import { Observable, type MonoTypeOperatorFunction } from 'rxjs';

/**
 * Passes every value through and calls `onIdle` once, completing the stream, when none has come for
 * `ms`. Unlike RxJS `timeout({ each })`, which cancels and schedules a timer for every value, this arms
 * one timer per `ms` and notes only the time of each value: a publisher sends a hundred chunks a
 * second, and the per-chunk timer work showed in ingest's CPU profile (bench:ingest --profile).
 */
export function idleTimeout<T>(ms: number, onIdle: () => void): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let lastAt = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        const quiet = performance.now() - lastAt;
        if (quiet < ms) {
          timer = setTimeout(check, ms - quiet);
          return;
        }
        timer = undefined;
        onIdle();
        subscriber.complete();
      };
      timer = setTimeout(check, ms);
      const subscription = source.subscribe({
        next(value) {
          lastAt = performance.now();
          subscriber.next(value);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        clearTimeout(timer);
        subscription.unsubscribe();
      };
    });
}
