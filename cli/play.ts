import { createWriteStream, openSync } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { FlvDemuxer } from '../core/flv/demuxer.js';
import { RtmpClient } from '../core/rtmp/client.js';
import { parseCommandArgs, UsageError, type Command } from './command.js';
import { describeTransfer, isRtmpUrl, isWebSocketUrl, LinkClosed, openHttp, openWebSocket, parseLiveUrl, readBody, StatusLine } from './live-link.js';

/** Close codes that mean the stream ended as it should: normal, server going away, stream ended. */
const ENDED_CODES = new Set([1000, 1001, 4410]);

export const playCommand: Command = {
  name: 'play',
  summary: 'Record what a player of a live stream receives (WebSocket-FLV or HTTP-FLV) into a file',
  help: `Usage: wsflv play URL -o FILE [options]

Connects to URL as a player and writes the FLV it receives to FILE ('-' for stdout), until the server
ends the stream or --seconds have passed. A recording cut by --seconds ends on a tag boundary.

URL forms:  ws://HOST/APP/STREAM.flv   ws://HOST/play?app=APP&stream=STREAM   http://HOST/APP/STREAM.flv   rtmp://HOST/APP/STREAM
and wss:// / https:// for TLS.

Progress goes to stderr. Exit code: 0 when --seconds elapsed or the server ended the stream normally,
1 when it was refused or cut (the close code or status and reason are printed), 2 on bad usage.

Options:
  -o, --output FILE   where to write the FLV (required)
      --seconds S     stop after S seconds
  -k, --insecure      accept any TLS certificate (self-signed test servers)
  -h, --help          show this help`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      output: { type: 'string', short: 'o' },
      seconds: { type: 'string' },
      insecure: { type: 'boolean', short: 'k' },
    });
    if (positionals.length !== 1) throw new UsageError('give one URL');
    const url = parseLiveUrl(positionals[0]!);
    if (!values.output) throw new UsageError('-o FILE is required');
    const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
    if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0)) throw new UsageError('--seconds must be a positive number');

    let out: Writable;
    try {
      // Opened before connecting, so a bad path is a one-line error rather than a lost recording.
      out = values.output === '-' ? process.stdout : createWriteStream(values.output, { fd: openSync(values.output, 'w') });
    } catch (error) {
      console.error(`wsflv play: cannot write ${values.output}: ${(error as Error).message}`);
      return 1;
    }
    // A write error later (disk full, a closed stdout pipe) ends the recording; it must not crash.
    let outputError: Error | undefined;
    out.on('error', (error) => {
      outputError ??= error;
    });
    const recorder = new Recorder(out);
    const startedAt = performance.now();
    const status = new StatusLine(() => `playing ${url.href}: ${describeTransfer(recorder.received, (performance.now() - startedAt) / 1000)}`);

    let outcome: Outcome;
    try {
      status.start();
      const insecure = values.insecure ?? false;
      outcome = await (isRtmpUrl(url) ? playRtmp(url, recorder, seconds, insecure) : isWebSocketUrl(url) ? playWebSocket(url, recorder, seconds, insecure) : playHttp(url, recorder, seconds, insecure));
    } catch (error) {
      outcome = { ok: false, why: (error as Error).message };
    }
    await recorder.close(outcome.byTimer === true);
    const elapsed = (performance.now() - startedAt) / 1000;
    const where = values.output === '-' ? 'stdout' : values.output;
    status.finish(`wsflv play: ${outcome.ok ? 'recorded' : 'failed after'} ${describeTransfer(recorder.written, elapsed)} to ${where}${outcome.why ? ` (${outcome.why})` : ''}`);
    if (recorder.warning) console.error(`wsflv play: warning: ${recorder.warning}`);
    if (outputError) console.error(`wsflv play: writing the output failed: ${outputError.message}`);
    return outcome.ok && !outputError ? 0 : 1;
  },
};

interface Outcome {
  ok: boolean;
  why?: string;
  byTimer?: boolean;
}

/**
 * Writes what arrives, holding back a tag that has not fully arrived, so that a recording cut by the
 * timer is a well-formed FLV file. The bytes are written as received, never re-muxed.
 */
class Recorder {
  received = 0;
  written = 0;
  warning: string | undefined;
  readonly #out: Writable;
  readonly #demuxer = new FlvDemuxer();
  #pending: Buffer[] = [];
  #tracking = true;
  #draining = false;

  constructor(out: Writable) {
    this.#out = out;
  }

  /** False when the output wants the sender to wait. */
  push(chunk: Buffer): boolean {
    this.received += chunk.length;
    this.#pending.push(chunk);
    if (this.#tracking) {
      try {
        this.#demuxer.push(chunk);
      } catch (error) {
        this.#tracking = false;
        this.warning = `the server sent invalid FLV: ${(error as Error).message}`;
      }
    }
    return this.#writeUpTo(this.#tracking ? this.#demuxer.bytesConsumed : this.received);
  }

  /** Call `resume` once the output has drained (once, however many writes found it full). */
  afterDrain(resume: () => void): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#out.once('drain', () => {
      this.#draining = false;
      resume();
    });
  }

  async close(cutByTimer: boolean): Promise<void> {
    if (!cutByTimer) this.#writeUpTo(this.received);
    if (this.#out === process.stdout) return;
    this.#out.end();
    await once(this.#out, 'finish').catch(() => undefined);
  }

  #writeUpTo(limit: number): boolean {
    let ok = true;
    while (this.written < limit && this.#pending.length > 0) {
      const head = this.#pending[0]!;
      const take = Math.min(head.length, limit - this.written);
      if (take === head.length) this.#pending.shift();
      else this.#pending[0] = head.subarray(take);
      ok = this.#out.write(take === head.length ? head : head.subarray(0, take)) && ok;
      this.written += take;
    }
    return ok;
  }
}

async function playWebSocket(url: URL, recorder: Recorder, seconds: number | undefined, insecure: boolean): Promise<Outcome> {
  let ws;
  try {
    ws = await openWebSocket(url, [], insecure);
  } catch (error) {
    return { ok: false, why: error instanceof LinkClosed ? error.message : `cannot connect: ${(error as Error).message}` };
  }
  const socket = ws;
  return new Promise<Outcome>((resolve) => {
    let byTimer = false;
    const timer = seconds === undefined ? undefined : setTimeout(() => {
      byTimer = true;
      socket.close(1000, 'recording done');
    }, seconds * 1000);
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || byTimer) return;
      if (!recorder.push(data)) {
        socket.pause();
        recorder.afterDrain(() => socket.resume());
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', (code: number, reason: Buffer) => {
      clearTimeout(timer);
      if (byTimer) return resolve({ ok: true, byTimer: true });
      const why = `server closed the connection: ${code}${reason.length ? ` ${reason.toString()}` : ''}`;
      resolve({ ok: ENDED_CODES.has(code), why });
    });
    socket.resume();
  });
}

async function playRtmp(url: URL, recorder: Recorder, seconds: number | undefined, insecure: boolean): Promise<Outcome> {
  let client: RtmpClient;
  try {
    client = await RtmpClient.play(url.href, { rejectUnauthorized: !insecure });
  } catch (error) {
    return { ok: false, why: (error as Error).message };
  }
  return new Promise<Outcome>((resolve) => {
    let byTimer = false;
    const timer = seconds === undefined ? undefined : setTimeout(() => {
      byTimer = true;
      client.close();
    }, seconds * 1000);
    client.flv$.subscribe({
      next: (chunk) => {
        // RTMP has no flow control of its own to pause: the output's backpressure is TCP's.
        if (!byTimer && !recorder.push(chunk)) {
          client.socket.pause();
          recorder.afterDrain(() => client.socket.resume());
        }
      },
      error: (error: Error) => {
        clearTimeout(timer);
        resolve(byTimer ? { ok: true, byTimer: true } : { ok: false, why: error.message });
      },
      complete: () => {
        clearTimeout(timer);
        resolve(byTimer ? { ok: true, byTimer: true } : { ok: !client.lastStatus, why: client.lastStatus ?? 'the server ended the stream' });
      },
    });
  });
}

async function playHttp(url: URL, recorder: Recorder, seconds: number | undefined, insecure: boolean): Promise<Outcome> {
  const req = openHttp(url, 'GET', insecure);
  req.end();
  return new Promise<Outcome>((resolve) => {
    let byTimer = false;
    const timer = seconds === undefined ? undefined : setTimeout(() => {
      byTimer = true;
      req.destroy();
      resolve({ ok: true, byTimer: true });
    }, seconds * 1000);
    req.on('error', (error) => {
      clearTimeout(timer);
      if (!byTimer) resolve({ ok: false, why: `connection failed: ${error.message}` });
    });
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        clearTimeout(timer);
        readBody(res).then(
          (body) => resolve({ ok: false, why: new LinkClosed(res.statusCode ?? 0, body.trim(), 'http').message }),
          () => resolve({ ok: false, why: `server answered ${res.statusCode}` }),
        );
        return;
      }
      res.on('data', (chunk: Buffer) => {
        if (!byTimer && !recorder.push(chunk)) {
          res.pause();
          recorder.afterDrain(() => res.resume());
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        if (!byTimer) resolve({ ok: true, why: 'the server ended the stream' });
      });
      res.on('error', () => undefined);
      res.on('close', () => {
        clearTimeout(timer);
        if (!byTimer && !res.complete) resolve({ ok: false, why: 'the connection was cut' });
      });
    });
  });
}
