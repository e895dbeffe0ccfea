import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Logger } from '../logger.js';

/** NATS's default `max_payload`, used until the server says its own. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Between first-connect attempts. */
const RETRY_MS = 500;

export interface BusEvents {
  /** Connected for the first time, or again after an outage. */
  connected(): void;
  /** The connection to NATS dropped; the client keeps trying to reconnect. */
  disconnected(): void;
}

/**
 * This node's connection to NATS: connects in the background and reconnects forever (a node runs its
 * local streams whether NATS is there or not), keeps the subscriptions across reconnects, and says
 * when it comes and goes. Publishing while disconnected is dropped, not queued: a media feed that
 * resumes with seconds-old frames is worse than one that restarts at a keyframe.
 */
export class ClusterBus {
  readonly #servers: string[];
  readonly #name: string;
  readonly #logger: Logger;
  readonly #events: BusEvents;
  #nc: NatsConnection | undefined;
  #connecting: Promise<void> | undefined;
  #stopped = false;
  #up = false;
  #retry: NodeJS.Timeout | undefined;
  readonly #subscriptions: { subject: string; handler: (msg: Msg) => void; sub?: Subscription }[] = [];

  constructor(servers: string[], name: string, logger: Logger, events: BusEvents) {
    this.#servers = servers;
    this.#name = name;
    this.#logger = logger;
    this.#events = events;
  }

  get connected(): boolean {
    return this.#up;
  }

  get maxPayload(): number {
    return this.#nc?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** Starts connecting; resolves once connected or after `waitMs`, whichever comes first. */
  async start(waitMs: number): Promise<void> {
    this.#connecting ??= this.#connect();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#connecting, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    if (!this.#up) this.#logger.warn({ nats: this.#servers }, 'NATS is not reachable yet: local streams run, the cluster joins when it is');
  }

  /** Tries until connected or stopped: the client's own first-connect retry could not be called off. */
  async #connect(): Promise<void> {
    let nc: NatsConnection | undefined;
    let warned = false;
    while (!this.#stopped && !nc) {
      try {
        nc = await connect({
          servers: this.#servers,
          name: this.#name,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          reconnectJitter: 100,
          pingInterval: 2000,
          maxPingOut: 2,
        });
      } catch (error) {
        if (!warned) this.#logger.debug({ err: error, nats: this.#servers }, 'cannot connect to NATS yet; retrying');
        warned = true;
        await new Promise<void>((resolve) => {
          this.#retry = setTimeout(resolve, RETRY_MS);
        });
      }
    }
    if (!nc) return;
    if (this.#stopped) {
      await nc.close().catch(() => undefined);
      return;
    }
    this.#nc = nc;
    for (const entry of this.#subscriptions) entry.sub = nc.subscribe(entry.subject, { callback: (_e, msg) => entry.handler(msg) });
    void this.#watch(nc);
    this.#setUp(true);
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') this.#setUp(false);
      else if (status.type === 'reconnect') this.#setUp(true);
    }
  }

  #setUp(up: boolean): void {
    if (this.#up === up || this.#stopped) return;
    this.#up = up;
    if (up) {
      this.#logger.info({ nats: this.#nc?.getServer() }, 'connected to NATS');
      this.#events.connected();
    } else {
      this.#logger.warn({ nats: this.#servers }, 'lost NATS: local streams go on, remote ones resume when it is back');
      this.#events.disconnected();
    }
  }

  /** Subscribes `subject` now and across reconnects. Returns the way to unsubscribe. */
  subscribe(subject: string, handler: (msg: Msg) => void): () => void {
    const entry: { subject: string; handler: (msg: Msg) => void; sub?: Subscription } = { subject, handler };
    this.#subscriptions.push(entry);
    if (this.#nc && !this.#nc.isClosed()) entry.sub = this.#nc.subscribe(subject, { callback: (_e, msg) => handler(msg) });
    return () => {
      const at = this.#subscriptions.indexOf(entry);
      if (at >= 0) this.#subscriptions.splice(at, 1);
      try {
        entry.sub?.unsubscribe();
      } catch {
        // Closed with the connection already.
      }
    };
  }

  /** Publishes when connected; false when the message was dropped. */
  publish(subject: string, data: Uint8Array | string): boolean {
    const nc = this.#nc;
    if (!nc || !this.#up || nc.isClosed()) return false;
    try {
      nc.publish(subject, data);
      return true;
    } catch (error) {
      this.#logger.debug({ err: error, subject }, 'NATS publish failed');
      return false;
    }
  }

  /** A request with a JSON answer, or undefined when nobody answered in time (or NATS is away). */
  async request(subject: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const nc = this.#nc;
    if (!nc || !this.#up || nc.isClosed()) return undefined;
    try {
      const reply = await nc.request(subject, JSON.stringify(body), { timeout: timeoutMs });
      return JSON.parse(reply.string());
    } catch {
      return undefined;
    }
  }

  /** Sends what is queued (within `deadlineMs`) and closes. */
  async stop(deadlineMs: number): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    const nc = this.#nc;
    this.#nc = undefined;
    this.#up = false;
    if (!nc || nc.isClosed()) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([nc.flush().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
    clearTimeout(timer);
    await nc.close().catch(() => undefined);
  }
}
