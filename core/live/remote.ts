import type { PublisherPolicy } from './registry.js';

/** A stream another node of the cluster holds, as this node's registry and API see it. */
export interface RemoteStream {
  key: string;
  /** The node whose publisher feeds it. */
  node: string;
  state: 'live' | 'grace';
  /** Players on that node, the other nodes' feeds among them. */
  players: number;
  /** Epoch milliseconds the holder's publisher started. */
  since: number;
}

/**
 * What the live registry asks of the cluster (core/cluster provides one; without it every stream is
 * local). The registry stays the one place players and publishers meet: the cluster is asked only when
 * a key is not held here.
 */
export interface RemoteStreams {
  /** Another node holds `key` live or in its grace period. */
  has(key: string): boolean;
  /** A player is waiting here for `key`, held elsewhere: start bringing the stream here. */
  demand(key: string): void;
  /**
   * A local publisher starts on `key`: throws StreamBusyError when another node holds it live and the
   * policy is 'reject'; under 'takeover' that node is told to let its publisher go.
   */
  claim(key: string, policy: PublisherPolicy): void;
  /** Streams held by other nodes, for the API. */
  list(): RemoteStream[];
  /** Every node of the cluster this one hears, itself first, for the API. */
  nodes(): ClusterNodeView[];
  /** This node's name in the cluster. */
  readonly node: string;
  /** Whether the bus is reachable now. */
  readonly connected: boolean;
}

export interface ClusterNodeView {
  node: string;
  pid: number;
  /** Epoch milliseconds. */
  startedAt: number;
  /** Its number under a `server.workers` supervisor. */
  worker?: number;
  /** Players on the node, other nodes' feeds included. */
  players: number;
  /** Streams its own publishers feed. */
  streams: number;
  self: boolean;
}
