import { isValidName } from '../server/routes.js';
import type { RemoteStream } from '../live/remote.js';

/** What one node tells the others, each second and on every change. */
export interface NodeAnnouncement {
  node: string;
  pid: number;
  /** Epoch milliseconds the node started. */
  startedAt: number;
  worker?: number;
  /** Players on the node (other nodes' feeds included). */
  players: number;
  /** Streams the node's own publishers feed, live or in their grace period. */
  streams: { key: string; state: 'live' | 'grace'; since: number; players: number }[];
  /** The node is leaving: forget it now. */
  bye?: boolean;
}

export type { ClusterNodeView as ClusterNode } from '../live/remote.js';
import type { ClusterNodeView as ClusterNode } from '../live/remote.js';

/** Parses an announcement from the bus, or undefined for anything that is not one. */
export function parseAnnouncement(data: Uint8Array): NodeAnnouncement | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const a = value as Record<string, unknown>;
  if (typeof a.node !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(a.node)) return undefined;
  if (!Array.isArray(a.streams)) return undefined;
  const streams: NodeAnnouncement['streams'] = [];
  for (const s of a.streams.slice(0, 100_000)) {
    if (typeof s !== 'object' || s === null) continue;
    const { key, state, since, players } = s as Record<string, unknown>;
    if (typeof key !== 'string' || !validKey(key)) continue;
    if (state !== 'live' && state !== 'grace') continue;
    streams.push({ key, state, since: finite(since), players: finite(players) });
  }
  return {
    node: a.node,
    pid: finite(a.pid),
    startedAt: finite(a.startedAt),
    ...(typeof a.worker === 'number' && Number.isInteger(a.worker) ? { worker: a.worker } : {}),
    players: finite(a.players),
    streams,
    ...(a.bye === true ? { bye: true } : {}),
  };
}

/** `APP/STREAM` with both names as the listener accepts them. */
function validKey(key: string): boolean {
  const slash = key.indexOf('/');
  return slash > 0 && isValidName(key.slice(0, slash)) && isValidName(key.slice(slash + 1));
}

function finite(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/**
 * The other nodes and the streams their publishers feed, from their announcements. A node not heard
 * from for `expireMs` is forgotten with its streams (it died, or the bus is cut off from it).
 */
export class ClusterDirectory {
  readonly #nodes = new Map<string, { announcement: NodeAnnouncement; heardAt: number }>();
  readonly #self: string;
  readonly #expireMs: number;

  constructor(self: string, expireMs: number) {
    this.#self = self;
    this.#expireMs = expireMs;
  }

  /** Takes an announcement; true when what it says about streams differs from the last one. */
  update(announcement: NodeAnnouncement, now: number): boolean {
    if (announcement.node === this.#self) return false;
    const before = this.#nodes.get(announcement.node)?.announcement;
    if (announcement.bye) {
      this.#nodes.delete(announcement.node);
      return before !== undefined && before.streams.length > 0;
    }
    this.#nodes.set(announcement.node, { announcement, heardAt: now });
    return !before || streamsKey(before) !== streamsKey(announcement);
  }

  /** Forgets nodes not heard from in time; true when that removed a stream. */
  expire(now: number): boolean {
    let changed = false;
    for (const [node, entry] of this.#nodes) {
      if (now - entry.heardAt <= this.#expireMs) continue;
      this.#nodes.delete(node);
      if (entry.announcement.streams.length > 0) changed = true;
    }
    return changed;
  }

  /**
   * The node that holds `key` for the cluster: a live one before one in its grace period, then the
   * earliest publisher (two nodes that took the same key at the same moment agree on one).
   */
  holder(key: string): RemoteStream | undefined {
    let best: RemoteStream | undefined;
    for (const { announcement } of this.#nodes.values()) {
      for (const s of announcement.streams) {
        if (s.key !== key) continue;
        const candidate: RemoteStream = { key, node: announcement.node, state: s.state, players: s.players, since: s.since };
        if (!best || better(candidate, best)) best = candidate;
      }
    }
    return best;
  }

  streams(): RemoteStream[] {
    const byKey = new Map<string, RemoteStream>();
    for (const { announcement } of this.#nodes.values()) {
      for (const s of announcement.streams) {
        const candidate: RemoteStream = { key: s.key, node: announcement.node, state: s.state, players: s.players, since: s.since };
        const best = byKey.get(s.key);
        if (!best || better(candidate, best)) byKey.set(s.key, candidate);
      }
    }
    return [...byKey.values()];
  }

  nodes(): ClusterNode[] {
    return [...this.#nodes.values()].map(({ announcement: a }) => ({
      node: a.node,
      pid: a.pid,
      startedAt: a.startedAt,
      ...(a.worker !== undefined ? { worker: a.worker } : {}),
      players: a.players,
      streams: a.streams.length,
      self: false,
    }));
  }
}

function better(a: RemoteStream, b: RemoteStream): boolean {
  if (a.state !== b.state) return a.state === 'live';
  if (a.since !== b.since) return a.since < b.since;
  return a.node < b.node;
}

function streamsKey(a: NodeAnnouncement): string {
  return a.streams.map((s) => `${s.key}:${s.state}:${s.since}`).join(',');
}
