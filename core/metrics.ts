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
  readonly #beforeScrape: (() => void)[] = [];

  /**
   * Run `update` before every scrape: a service that sums counts lazily (rather than touching a
   * counter on every packet) brings them up to date here, so a scrape is never behind.
   */
  beforeScrape(update: () => void): void {
    this.#beforeScrape.push(update);
  }

  /** The Prometheus text exposition, current as of this call. */
  async scrape(): Promise<string> {
    for (const update of this.#beforeScrape) update();
    return this.registry.metrics();
  }

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
