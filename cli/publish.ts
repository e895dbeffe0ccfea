import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { FlvError } from '../core/errors.js';
import { muxTag } from '../core/flv/muxer.js';
import { readFlvTags } from '../core/flv/tag-reader.js';
import { parseCommandArgs, UsageError, type Command } from './command.js';
import { RtmpClient } from '../core/rtmp/client.js';
import { describeTransfer, isRtmpUrl, isWebSocketUrl, LinkClosed, openHttp, openWebSocket, parseLiveUrl, readBody, StatusLine } from './live-link.js';

/** Unpaced sends are gathered into messages of about this size: fewer writes, any chunking is valid. */
const BATCH_BYTES = 64 * 1024;
/** Stop reading ahead while this much is waiting in the socket. */
const HIGH_WATER = 4 * 1024 * 1024;
/** Gap between the last tag of one pass and the first of the next, when looping. */
const LOOP_GAP_MS = 40;

/** The sending half of a publish connection, over WebSocket or an HTTP request body. */
interface Uplink {
  send(chunk: Buffer): Promise<void>;
  /** End the stream politely and wait for the server's verdict. */
  finish(): Promise<void>;
  /** Rejects as soon as the server refuses or cuts the stream. */
  readonly failed: Promise<never>;
  abort(): void;
}

export const publishCommand: Command = {
  name: 'publish',
  summary: 'Push an FLV file or stdin to a live server over WebSocket or HTTP, paced in real time',
  help: `Usage: wsflv publish FILE|- URL [options]

Publishes FLV to URL, tag by tag, paced by the tags' timestamps (so a file plays out in real time).
FILE '-' reads stdin, e.g.  ffmpeg -re -i in.mp4 -c copy -f flv - | wsflv publish - ws://host/live/cam.flv

URL forms:
  ws://HOST/APP/STREAM.flv                (subprotocol "publisher" is sent)
  ws://HOST/publish?app=APP&stream=STREAM
  http://HOST/APP/STREAM.flv              (chunked POST)
  rtmp://HOST[:1935]/APP/STREAM           (RTMP publish; any RTMP server)
and wss:// / https:// for TLS.

Progress goes to stderr. Exit code: 0 when everything was sent and the server accepted it, 1 when the
server refused or closed the stream (its close code or status and reason are printed), 2 on bad usage.

Options:
      --no-realtime   send as fast as the connection takes it
      --loop          start over at the end of FILE, timestamps continuing (not with '-')
  -k, --insecure      accept any TLS certificate (self-signed test servers)
  -h, --help          show this help`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      'no-realtime': { type: 'boolean' },
      loop: { type: 'boolean' },
      insecure: { type: 'boolean', short: 'k' },
    });
    if (positionals.length !== 2) throw new UsageError('give an input (FILE or -) and a URL');
    const [input, target] = positionals as [string, string];
    const url = parseLiveUrl(target);
    const realtime = !values['no-realtime'];
    const loop = values.loop ?? false;
    const insecure = values.insecure ?? false;
    if (loop && input === '-') throw new UsageError('--loop needs a file: stdin cannot be read twice');
    if (loop && !realtime) throw new UsageError('--loop needs real-time pacing: an unpaced loop never ends');
    if (input !== '-') {
      try {
        if (!(await stat(input)).isFile()) throw new Error('not a file');
      } catch (error) {
        console.error(`wsflv publish: cannot read ${input}: ${(error as Error).message}`);
        return 1;
      }
    }

    let uplink: Uplink;
    try {
      uplink = isRtmpUrl(url) ? await rtmpUplink(url, insecure) : isWebSocketUrl(url) ? await wsUplink(url, insecure) : httpUplink(url, insecure);
    } catch (error) {
      console.error(`wsflv publish: ${url.href}: ${(error as Error).message}`);
      return 1;
    }

    let stopRequested = false;
    let wake: () => void = () => {};
    const onSignal = () => {
      stopRequested = true;
      wake();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const startedAt = performance.now();
    let sentBytes = 0;
    let mediaMs = 0;
    const status = new StatusLine(() => `publishing ${url.href}: ${describeTransfer(sentBytes, (performance.now() - startedAt) / 1000, mediaMs)}`);
    status.start();

    let batch: Buffer[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batchBytes === 0) return;
      const chunk = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
      batch = [];
      batchBytes = 0;
      await Promise.race([uplink.send(chunk), uplink.failed]);
      sentBytes += chunk.length;
    };
    const sleep = (ms: number) =>
      Promise.race([
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        }),
        uplink.failed,
      ]);

    try {
      let headerSent = false;
      let firstDts: number | undefined;
      let lastDts = 0;
      let shift = 0;
      pass: do {
        let passFirst: number | undefined;
        const chunks = input === '-' ? process.stdin : createReadStream(input, { highWaterMark: 64 * 1024 });
        for await (const { header, tag, packet } of readFlvTags(chunks)) {
          if (stopRequested) break pass;
          if (header && !headerSent) {
            batch.push(header);
            batchBytes += header.length;
            headerSent = true;
          }
          if (passFirst === undefined) {
            passFirst = packet.dts;
            if (firstDts !== undefined) shift = lastDts + LOOP_GAP_MS - passFirst;
          }
          const dts = packet.dts + shift;
          firstDts ??= dts;
          lastDts = Math.max(lastDts, dts);
          mediaMs = lastDts - firstDts;
          // Later passes are re-stamped so the server sees one continuous timeline.
          const bytes = shift === 0 ? tag : muxTag({ kind: packet.kind, dts, body: packet.body });
          if (realtime) {
            const wait = startedAt + (dts - firstDts) - performance.now();
            if (wait > 1) await sleep(wait);
            if (stopRequested) break pass;
          }
          batch.push(bytes);
          batchBytes += bytes.length;
          // Paced: each tag leaves when due (the header rides with the first). Unpaced: big messages.
          if (realtime || batchBytes >= BATCH_BYTES) await flush();
        }
      } while (loop && !stopRequested);
      await flush();
      await uplink.finish();
    } catch (error) {
      uplink.abort();
      const elapsed = (performance.now() - startedAt) / 1000;
      const what = error instanceof FlvError ? `input is not valid FLV: ${error.message}` : (error as Error).message;
      status.finish(`wsflv publish: ${what} (after ${describeTransfer(sentBytes, elapsed, mediaMs)})`);
      return 1;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    const elapsed = (performance.now() - startedAt) / 1000;
    status.finish(`wsflv publish: ${stopRequested ? 'interrupted, ' : ''}sent ${describeTransfer(sentBytes, elapsed, mediaMs)}`);
    return stopRequested ? 130 : 0;
  },
};

async function wsUplink(url: URL, insecure: boolean): Promise<Uplink> {
  // The subprotocol is what marks `/APP/STREAM.flv` as a publish; `/publish?…` does not need it but takes it.
  const ws = await openWebSocket(url, ['publisher'], insecure);
  let finishing = false;
  const failed = new Promise<never>((_resolve, reject) => {
    ws.on('close', (code: number, reason: Buffer) => {
      if (!finishing || code !== 1000) reject(new LinkClosed(code, reason.toString(), 'ws'));
    });
    ws.on('error', reject);
  });
  failed.catch(() => {});
  ws.resume();
  return {
    failed,
    async send(chunk) {
      if (ws.readyState !== WebSocket.OPEN) return failed;
      if (ws.bufferedAmount < HIGH_WATER) {
        ws.send(chunk, { binary: true });
        return;
      }
      await new Promise<void>((resolve, reject) => ws.send(chunk, { binary: true }, (error) => (error ? reject(error) : resolve())));
    },
    async finish() {
      finishing = true;
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'publisher finished');
      await Promise.race([once(ws, 'close'), failed]);
    },
    abort() {
      ws.terminate();
    },
  };
}

/** RTMP: the batches are whole FLV tags (and the header, which RTMP does not carry); each tag is one message. */
async function rtmpUplink(url: URL, insecure: boolean): Promise<Uplink> {
  const client = await RtmpClient.publish(url.href, { rejectUnauthorized: !insecure });
  let finishing = false;
  const failed = new Promise<never>((_resolve, reject) => {
    client.socket.once('close', () => {
      if (!finishing || client.lastStatus) reject(new LinkClosed(0, client.lastStatus ?? 'connection closed', 'rtmp'));
    });
  });
  failed.catch(() => {});
  return {
    failed,
    async send(chunk) {
      let at = chunk.length >= 13 && chunk.toString('latin1', 0, 3) === 'FLV' ? chunk.readUInt32BE(5) + 4 : 0;
      while (chunk.length - at >= 15) {
        const size = chunk.readUIntBE(at + 1, 3);
        client.sendTag(chunk.subarray(at, at + 11 + size + 4));
        at += 11 + size + 4;
      }
      if (client.queuedBytes >= HIGH_WATER) await Promise.race([once(client.socket, 'drain'), failed]);
    },
    async finish() {
      finishing = true;
      // Give a refusal sent after the last tag the time to arrive, then unpublish.
      await new Promise((resolve) => setTimeout(resolve, 200));
      client.close();
      await Promise.race([once(client.socket, 'close'), failed]);
    },
    abort() {
      client.socket.destroy();
    },
  };
}

function httpUplink(url: URL, insecure: boolean): Uplink {
  const req = openHttp(url, 'POST', insecure, { 'Content-Type': 'video/x-flv', 'Transfer-Encoding': 'chunked' });
  let finishing = false;
  let answered!: (value: void) => void;
  const done = new Promise<void>((resolve) => (answered = resolve));
  const failed = new Promise<never>((_resolve, reject) => {
    req.on('response', (res) => {
      readBody(res).then((body) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 || !finishing) reject(new LinkClosed(status, body.trim(), 'http'));
        else answered();
      }, reject);
    });
    req.on('error', reject);
  });
  failed.catch(() => {});
  req.flushHeaders();
  return {
    failed,
    async send(chunk) {
      if (!req.write(chunk)) await Promise.race([once(req, 'drain'), failed]);
    },
    async finish() {
      finishing = true;
      req.end();
      await Promise.race([done, failed]);
    },
    abort() {
      req.destroy();
    },
  };
}
