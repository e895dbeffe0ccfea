import type { ServiceIdentifier } from 'inversify';
import { Counter, Gauge, Registry } from 'prom-client';

export const METRICS: ServiceIdentifier<Metrics> = Symbol.for('wsflv.metrics');

/**
 * One Prometheus registry per process (per container, so tests can run several side by side).
 * Components get or create their metrics by name: two components asking for the same name share it.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #metrics = new Map<string, Counter<string> | Gauge<string>>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter<string> {
    return this.#getOrCreate(name, () => new Counter({ name, help, labelNames, registers: [this.registry] })) as Counter<string>;
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge<string> {
    return this.#getOrCreate(name, () => new Gauge({ name, help, labelNames, registers: [this.registry] })) as Gauge<string>;
  }

  #getOrCreate(name: string, make: () => Counter<string> | Gauge<string>) {
    let metric = this.#metrics.get(name);
    if (!metric) {
      metric = make();
      this.#metrics.set(name, metric);
    }
    return metric;
  }
}
