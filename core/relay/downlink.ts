import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { Observable } from 'rxjs';
import { WebSocket } from 'ws';
import { WsflvError } from '../errors.js';
import { RtmpClient } from '../rtmp/client.js';

/**
 * One connection to a remote stream, as FLV bytes: `rtmp(s)://` through our RTMP client,
 * `http(s)://…flv` as a GET, `ws(s)://…flv` as a WebSocket player. Completes when the remote ends
 * the stream, errors when it refuses or the connection fails; unsubscribing closes it.
 */
export function remoteFlv(url: string, timeoutMs = 10_000): Observable<Buffer> {
  const scheme = new URL(url).protocol;
  if (scheme === 'rtmp:' || scheme === 'rtmps:') return rtmpFlv(url, timeoutMs);
  if (scheme === 'ws:' || scheme === 'wss:') return wsFlv(url, timeoutMs);
  if (scheme === 'http:' || scheme === 'https:') return httpFlv(url, timeoutMs);
  throw new WsflvError('WSFLV_ERR_RELAY_URL', `cannot pull ${url}: use rtmp://, rtmps://, http(s)://…flv or ws(s)://…flv`);
}

function rtmpFlv(url: string, timeoutMs: number): Observable<Buffer> {
  return new Observable<Buffer>((subscriber) => {
    let client: RtmpClient | undefined;
    let closed = false;
    RtmpClient.play(url, { timeoutMs }).then(
      (c) => {
        if (closed) return c.close();
        client = c;
        c.flv$.subscribe(subscriber);
      },
      (error) => subscriber.error(error),
    );
    return () => {
      closed = true;
      client?.close();
    };
  });
}

function wsFlv(url: string, timeoutMs: number): Observable<Buffer> {
  return new Observable<Buffer>((subscriber) => {
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs, perMessageDeflate: false });
    ws.on('message', (data: Buffer, binary: boolean) => binary && subscriber.next(data));
    ws.on('error', (error) => subscriber.error(new WsflvError('WSFLV_ERR_RELAY_REMOTE', `${url}: ${error.message}`)));
    ws.on('close', (code: number, reason: Buffer) => {
      if (code === 1000 || code === 4410) subscriber.complete();
      else subscriber.error(new WsflvError('WSFLV_ERR_RELAY_REMOTE', `${url} closed: ${code} ${reason.toString()}`.trim()));
    });
    return () => ws.terminate();
  });
}

function httpFlv(url: string, timeoutMs: number): Observable<Buffer> {
  return new Observable<Buffer>((subscriber) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, { timeout: timeoutMs }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        subscriber.error(new WsflvError('WSFLV_ERR_RELAY_REMOTE', `${url} answered ${res.statusCode}`));
        res.resume();
        return;
      }
      req.setTimeout(0);
      res.on('data', (chunk: Buffer) => subscriber.next(chunk));
      res.on('end', () => subscriber.complete());
      res.on('error', (error) => subscriber.error(error));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => subscriber.error(new WsflvError('WSFLV_ERR_RELAY_REMOTE', `${url}: ${error.message}`)));
    return () => req.destroy();
  });
}
