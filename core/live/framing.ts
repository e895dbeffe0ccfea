import { httpChunk } from './http-chunk.js';
import { wsBinaryFrame } from './ws-frame.js';

/**
 * How FLV bytes (a tag, or the FLV header) are framed for one kind of player connection: a
 * WebSocket binary frame, an HTTP chunk, RTMP chunks. The channel frames each tag at most once per
 * framing and hands the same Buffer to every player of it, so a transport that needs its own
 * framing registers it here instead of being written into the channel. A framer may return an empty
 * Buffer for what its transport does not carry (RTMP has no FLV header).
 */
export type Framer = (flv: Buffer) => Buffer;

const framers = new Map<string, Framer>([
  ['ws', (flv) => wsBinaryFrame(flv)],
  ['http', (flv) => httpChunk(flv)],
]);

/** Adds a framing by name. Registering the same framer twice is harmless; another one under a taken name is an error. */
export function registerFraming(name: string, framer: Framer): void {
  const existing = framers.get(name);
  if (existing && existing !== framer) throw new Error(`framing "${name}" is already registered`);
  framers.set(name, framer);
}

export function framerFor(name: string): Framer {
  const framer = framers.get(name);
  if (!framer) throw new Error(`no framing "${name}" is registered`);
  return framer;
}
