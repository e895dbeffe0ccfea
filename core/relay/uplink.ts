import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { WebSocket } from 'ws';
import { muxFlvHeader } from '../flv/muxer.js';
import { WsflvError } from '../errors.js';
import { RtmpClient } from '../rtmp/client.js';

/** A connection that takes FLV tags for a remote server, whatever its protocol. */
export interface Uplink {
  send(tag: Buffer): void;
  /** Bytes accepted but not yet on the wire: a relay drops to the next keyframe above its bound. */
  readonly queuedBytes: number;
  /** Resolves (once) when the remote closes or fails, with why. */
  readonly closed: Promise<string>;
  close(): void;
}

/**
 * Opens a publishing connection to `url`: `rtmp(s)://HOST/APP/STREAM` with our RTMP client,
 * `ws(s)://…` as a WebSocket publisher, `http(s)://…` as a chunked POST. The FLV header goes first
 * (RTMP carries none).
 */
export async function openUplink(url: string, timeoutMs = 10_000): Promise<Uplink> {
  const scheme = new URL(url).protocol;
  if (scheme === 'rtmp:' || scheme === 'rtmps:') {
    const client = await RtmpClient.publish(url, { timeoutMs });
    const closed = new Promise<string>((resolve) => client.socket.once('close', () => resolve(client.lastStatus ?? 'the remote closed the connection')));
    return { send: (tag) => client.sendTag(tag), get queuedBytes() { return client.queuedBytes; }, closed, close: () => client.close() };
  }
  const header = muxFlvHeader({ audio: true, video: true });
  if (scheme === 'ws:' || scheme === 'wss:') {
    const ws = new WebSocket(url, ['publisher'], { handshakeTimeout: timeoutMs, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (error) => reject(new WsflvError('WSFLV_ERR_RELAY_REMOTE', `${url}: ${error.message}`)));
      ws.once('unexpected-response', (_req, res) => reject(new WsflvError('WSFLV_ERR_RELAY_REMOTE', `${url} answered ${res.statusCode}`)));
    });
    const closed = new Promise<string>((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve(`closed ${code} ${reason.toString()}`.trim())));
    ws.on('error', () => undefined);
    ws.send(header);
    return { send: (tag) => ws.readyState === WebSocket.OPEN && ws.send(tag), get queuedBytes() { return ws.bufferedAmount; }, closed, close: () => ws.close(1000, 'relay finished') };
  }
  if (scheme === 'http:' || scheme === 'https:') {
    const request = scheme === 'https:' ? httpsRequest : httpRequest;
    const req: ClientRequest = request(url, { method: 'POST', headers: { 'Content-Type': 'video/x-flv', 'Transfer-Encoding': 'chunked' } });
    const closed = new Promise<string>((resolve) => {
      req.on('response', (res) => {
        res.resume();
        resolve(`answered ${res.statusCode}`);
      });
      req.on('error', (error) => resolve(error.message));
      req.on('close', () => resolve('the connection closed'));
    });
    req.write(header);
    return { send: (tag) => !req.destroyed && req.write(tag), get queuedBytes() { return req.writableLength; }, closed, close: () => req.end() };
  }
  throw new WsflvError('WSFLV_ERR_RELAY_URL', `cannot push to ${url}: use rtmp://, rtmps://, ws(s):// or http(s)://`);
}
