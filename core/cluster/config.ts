import { hostname } from 'node:os';
import type { ServiceIdentifier } from 'inversify';
import { z } from 'zod';

/** What a node's name may be: it is part of NATS subjects. */
const NODE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export const clusterConfigSchema = z
  .object({
    nats: z
      .string()
      .min(1)
      .describe('NATS server URL(s), comma-separated, e.g. `nats://10.0.0.5:4222`; every node of the cluster uses the same NATS'),
    node: z
      .string()
      .regex(NODE_NAME, 'a node name is 1-64 letters, digits, `_` or `-`')
      .optional()
      .describe('this node\'s name, unique in the cluster (default: the host name and process id)'),
    lingerMs: z
      .number().int().min(0).max(600_000)
      .default(5000)
      .describe('how long a stream keeps coming from its origin node after the last player here left'),
    subjectPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/)
      .default('wsflv')
      .describe('first token of every NATS subject the cluster uses (several clusters can share one NATS)'),
  })
  .strict();

export type ClusterOptions = z.infer<typeof clusterConfigSchema>;

export const workersSchema = z
  .union([z.number().int().min(1).max(256), z.literal('auto')])
  .default(1)
  .describe('worker processes on the one port, tied together through NATS (`auto`: one per core); with no `cluster`, a local nats-server is started');

/** `server.cluster` and `server.workers`: this module's fields of the `server:` section. */
export const clusterConfigShape = {
  cluster: clusterConfigSchema.optional().describe('join a cluster of nodes over NATS: a stream published on any node plays on every node'),
  workers: workersSchema,
};

export interface ClusterSectionConfig {
  cluster?: ClusterOptions;
  workers: number | 'auto';
}

/** The cluster as this process runs it, once the supervisor's environment has been read. */
export interface ClusterSettings {
  nats: string[];
  node: string;
  lingerMs: number;
  subjectPrefix: string;
  /** The worker number when a supervisor started this process (`server.workers`). */
  worker?: number;
}

export const CLUSTER_SETTINGS: ServiceIdentifier<ClusterSettings | undefined> = Symbol.for('wsflv.cluster-settings');

/** Set by the supervisor in each worker's environment. */
export const WORKER_ENV = { nats: 'WSFLV_CLUSTER_NATS', node: 'WSFLV_CLUSTER_NODE', worker: 'WSFLV_WORKER' } as const;

/** The cluster this process joins: the file's `server.cluster`, or the supervisor's (a worker), or none. */
export function clusterSettings(config: ClusterSectionConfig, env: NodeJS.ProcessEnv = process.env): ClusterSettings | undefined {
  const worker = env[WORKER_ENV.worker] === undefined ? undefined : Number(env[WORKER_ENV.worker]);
  const nats = env[WORKER_ENV.nats] ?? config.cluster?.nats;
  if (nats === undefined) return undefined;
  const node = env[WORKER_ENV.node] ?? config.cluster?.node ?? defaultNodeName();
  return {
    nats: nats.split(',').map((s) => s.trim()).filter(Boolean),
    node,
    lingerMs: config.cluster?.lingerMs ?? 5000,
    subjectPrefix: config.cluster?.subjectPrefix ?? 'wsflv',
    ...(worker !== undefined && Number.isInteger(worker) ? { worker } : {}),
  };
}

export function defaultNodeName(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40) || 'node';
  return `${host}-${process.pid}`;
}
