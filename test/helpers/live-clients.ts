/**
 * Client ends for live-server tests: a WebSocket that records what it gets and how it was closed, raw
 * HTTP over a socket (to send what a well-behaved client never would), and FLV parsing of a recording.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { WebSocket, type ClientOptions } from 'ws';
import { FlvDemuxer } from '../../core/flv/demuxer.js';
import type { MediaPacket } from '../../core/media/packet.js';

export const FIXTURE = 'test/fixtures/h264-aac-360p30-10s.flv';

export function fixture(name = FIXTURE): Buffer {
  return readFileSync(name);
}

export interface Closed {
  code: number;
  reason: string;
}

/** A WebSocket client that keeps every binary message and its close code and reason. */
export class RecordingSocket {
  readonly ws: WebSocket;
  readonly messages: Buffer[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<Closed>;
  /** Resolves if the handshake is refused, with the HTTP status and body. */
  readonly refusal: Promise<{ status: number; body: string }>;
  #waiters: { bytes: number; resolve: () => void }[] = [];
  bytes = 0;

  constructor(url: string, protocols: string[] = [], options: ClientOptions = {}) {
    this.ws = new WebSocket(url, protocols, { rejectUnauthorized: false, ...options });
    this.ws.on('error', () => undefined);
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      this.messages.push(data);
      this.bytes += data.length;
      this.#waiters = this.#waiters.filter((w) => (this.bytes >= w.bytes ? (w.resolve(), false) : true));
    });
    this.refusal = new Promise((resolve) => {
      this.ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
          this.ws.terminate();
        });
      });
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('close', () => reject(new Error('closed before opening')));
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
    });
  }

  /** Resolves once at least `bytes` have arrived. */
  received(bytes: number, timeoutMs = 10_000): Promise<void> {
    if (this.bytes >= bytes) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${this.bytes} of ${bytes} bytes`)), timeoutMs);
      this.#waiters.push({ bytes, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  get data(): Buffer {
    return Buffer.concat(this.messages);
  }
}

/** Send `data` to the server as `sizes` dictates, one WebSocket message per piece. */
export function sendInPieces(ws: WebSocket, data: Buffer, sizes: (offset: number) => number): void {
  for (let at = 0; at < data.length; ) {
    const size = Math.max(1, sizes(at));
    ws.send(data.subarray(at, at + size));
    at += size;
  }
}

/** The FLV tags of a byte stream, with their byte ranges (for one-tag-per-message sends). */
export function flvTags(data: Buffer): { start: number; end: number; packet: MediaPacket }[] {
  const packets = new FlvDemuxer().push(data);
  return packets.map((packet, i) => ({
    start: packet.offset!,
    end: i + 1 < packets.length ? packets[i + 1]!.offset! : data.length,
    packet,
  }));
}

/** Parse a player's recording; throws on anything that is not a whole, valid FLV stream. */
export function parseFlv(data: Buffer): { hasAudio: boolean; hasVideo: boolean; packets: MediaPacket[] } {
  const demuxer = new FlvDemuxer();
  const packets = demuxer.push(data);
  const header = demuxer.header;
  if (!header) throw new Error(`no FLV header in ${data.length} bytes`);
  return { hasAudio: header.hasAudio, hasVideo: header.hasVideo, packets };
}

/** Send raw bytes over TCP and collect the whole answer until the server closes. */
export async function rawRequest(port: number, bytes: string | Buffer, options: { host?: string; keepOpenMs?: number } = {}): Promise<string> {
  const socket = connect(port, options.host ?? '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(bytes);
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  await new Promise<void>((resolve) => {
    socket.on('close', () => resolve());
    if (options.keepOpenMs !== undefined) setTimeout(() => (socket.destroy(), resolve()), options.keepOpenMs);
  });
  return answer;
}

export function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0);
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export { freePort } from '../../core/process/ports.js';
