import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { Observable, Subject } from 'rxjs';
import { encodeAmf0 } from '../flv/amf0.js';
import { RtmpError } from '../errors.js';
import { TAG_TYPE } from '../media/packet.js';
import { ChunkReader } from './chunk-reader.js';
import { chunkMessage } from './chunk-writer.js';
import { command, decodeCommand, type RtmpCommand } from './commands.js';
import { messageToFlv, RTMP_FLV_HEADER } from './flv-bridge.js';
import { clientAnswer, clientHello, HANDSHAKE_SIZE } from './handshake.js';
import { acknowledgement, CSID, MSG, setChunkSize, USER_CONTROL, userControl, type RtmpMessage } from './messages.js';

export interface RtmpUrl {
  secure: boolean;
  host: string;
  port: number;
  /** The app, as `connect` sends it (with its query, if the URL had one on the app). */
  app: string;
  /** The stream name with its query (`cam1?sign=…`), as `publish`/`play` send it. */
  stream: string;
  tcUrl: string;
}

/** `rtmp://HOST[:PORT]/APP/STREAM[?query]` (rtmps too); the last path segment is the stream. */
export function parseRtmpUrl(url: string): RtmpUrl {
  const parsed = new URL(url);
  if (parsed.protocol !== 'rtmp:' && parsed.protocol !== 'rtmps:') throw new RtmpError('WSFLV_ERR_RTMP_URL', `not an rtmp:// or rtmps:// URL: ${url}`);
  const secure = parsed.protocol === 'rtmps:';
  const parts = parsed.pathname.split('/').filter(Boolean);
  if (parts.length < 2) throw new RtmpError('WSFLV_ERR_RTMP_URL', `an RTMP URL needs an app and a stream: ${url}`);
  const stream = decodeURIComponent(parts.pop()!) + parsed.search;
  const app = parts.map(decodeURIComponent).join('/');
  const port = parsed.port ? Number(parsed.port) : secure ? 443 : 1935;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return { secure, host, port, app, stream, tcUrl: `${parsed.protocol}//${parsed.host}/${app}` };
}

const OUT_CHUNK_SIZE = 60_000;

export interface RtmpClientOptions {
  /** Bound on connecting, the handshake and each command answer. */
  timeoutMs?: number;
  /** Self-signed RTMPS servers (tests, private relays). */
  rejectUnauthorized?: boolean;
}

/**
 * An RTMP client for publishing to or playing from another server (node-media-server, SRS, nginx-rtmp,
 * YouTube-style ingest, or wsflv itself): the digest handshake, `connect`, `createStream`, then
 * `publish` or `play`. Used by `wsflv publish|play rtmp://…`, the `pull` source and the `push` sink.
 */
export class RtmpClient {
  readonly socket: Socket;
  readonly url: RtmpUrl;
  /** Play: the stream as FLV bytes, header first. Completes when the server ends it or the socket closes. */
  readonly flv$: Observable<Buffer>;
  readonly #reader = new ChunkReader();
  readonly #flv = new Subject<Buffer>();
  readonly #waiting = new Map<number | string, { resolve: (c: RtmpCommand) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  readonly #timeoutMs: number;
  #transaction = 1;
  #streamId = 0;
  #peerWindow = 2_500_000;
  #acked = 0;
  #playing = false;
  /** Publish or play has started: statuses from now on are events, not answers. */
  #started = false;
  /** The last error status the server sent outside a command answer (why it ended a publish). */
  lastStatus: string | undefined;
  /** onStatus messages no one waited for yet, while connecting (bounded: only the first few matter). */
  readonly #statuses: RtmpCommand[] = [];
  #early: Buffer[] | undefined = [RTMP_FLV_HEADER];
  #closed = false;
  #error: Error | undefined;

  private constructor(socket: Socket, url: RtmpUrl, timeoutMs: number) {
    this.socket = socket;
    this.url = url;
    this.#timeoutMs = timeoutMs;
    // What arrives before the first subscriber (often in the same read as Play.Start) waits for it.
    this.flv$ = new Observable<Buffer>((subscriber) => {
      const early = this.#early ?? [];
      this.#early = undefined;
      for (const chunk of early) subscriber.next(chunk);
      return this.#flv.subscribe(subscriber);
    });
  }

  static async publish(url: string, options: RtmpClientOptions = {}): Promise<RtmpClient> {
    const client = await RtmpClient.#open(url, options);
    // Not awaited, as encoders do: some servers (node-media-server among them) never answer
    // releaseStream or FCPublish, and a late _result for them is ignored.
    client.#send(command('releaseStream', client.#transaction++, [null, client.url.stream]));
    client.#send(command('FCPublish', client.#transaction++, [null, client.url.stream]));
    const created = await client.#call('createStream', [null]);
    client.#streamId = typeof created.args[0] === 'number' ? created.args[0] : 1;
    client.#send(command('publish', 0, [null, client.url.stream, 'live'], client.#streamId));
    const status = await client.#status();
    client.#started = true;
    if (status.code !== 'NetStream.Publish.Start') {
      client.close();
      throw new RtmpError('WSFLV_ERR_RTMP_REFUSED', `RTMP publish refused: ${status.code}${status.description ? ` (${status.description})` : ''}`);
    }
    return client;
  }

  static async play(url: string, options: RtmpClientOptions = {}): Promise<RtmpClient> {
    const client = await RtmpClient.#open(url, options);
    const created = await client.#call('createStream', [null]);
    client.#streamId = typeof created.args[0] === 'number' ? created.args[0] : 1;
    client.#send(userControl(USER_CONTROL.setBufferLength, client.#streamId));
    client.#playing = true;
    client.#send(command('play', 0, [null, client.url.stream, -1000], client.#streamId));
    for (;;) {
      const status = await client.#status();
      if (status.code === 'NetStream.Play.Start') {
        client.#started = true;
        return client;
      }
      if (status.level === 'error' || /Failed|NotFound|Unauthorized|BadName/.test(status.code)) {
        client.close();
        throw new RtmpError('WSFLV_ERR_RTMP_REFUSED', `RTMP play refused: ${status.code}${status.description ? ` (${status.description})` : ''}`);
      }
    }
  }

  /** Publish: one FLV tag (11-byte header, body, PreviousTagSize) as its RTMP message. */
  sendTag(tag: Buffer): void {
    const type = tag[0]! & 0x1f;
    const size = tag.readUIntBE(1, 3);
    const timestamp = (tag.readUIntBE(4, 3) | (tag[7]! << 24)) >>> 0;
    let body = tag.subarray(11, 11 + size);
    if (type === TAG_TYPE.script) body = Buffer.concat([encodeAmf0(['@setDataFrame']), body]);
    const csid = type === TAG_TYPE.audio ? CSID.audio : type === TAG_TYPE.video ? CSID.video : CSID.media;
    this.#send({ csid, type: type === TAG_TYPE.script ? MSG.dataAmf0 : type, streamId: this.#streamId, timestamp, payload: body });
  }

  /** Bytes queued on the socket: a publisher paces itself on it. */
  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  /** Unpublish (or stop) and close. */
  close(): void {
    if (this.#closed) return;
    if (this.#streamId && !this.socket.destroyed) {
      this.#send(command('FCUnpublish', this.#transaction++, [null, this.url.stream]));
      this.#send(command('deleteStream', this.#transaction++, [null, this.#streamId]));
    }
    this.#closed = true;
    this.socket.end();
    const socket = this.socket;
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  static async #open(url: string, options: RtmpClientOptions): Promise<RtmpClient> {
    const target = parseRtmpUrl(url);
    const timeoutMs = options.timeoutMs ?? 10_000;
    const socket: Socket = target.secure
      ? connectTls({ host: target.host, port: target.port, servername: target.host, rejectUnauthorized: options.rejectUnauthorized ?? true })
      : connectTcp({ host: target.host, port: target.port, noDelay: true });
    const client = new RtmpClient(socket, target, timeoutMs);
    await client.#handshake();
    client.socket.write(chunkMessage(setChunkSize(OUT_CHUNK_SIZE), 128));
    await client.#call('connect', [{ app: target.app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; wsflv)', tcUrl: target.tcUrl, fpad: false, capabilities: 15, audioCodecs: 3575, videoCodecs: 252, videoFunction: 1, objectEncoding: 0, fourCcList: ['avc1', 'hvc1', 'av01', 'vp09'] }]);
    return client;
  }

  #handshake(): Promise<void> {
    const socket = this.socket;
    return new Promise<void>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let length = 0;
      const timer = setTimeout(() => fail(new RtmpError('WSFLV_ERR_RTMP_HANDSHAKE', `RTMP: no handshake from ${this.url.host}:${this.url.port} within ${this.#timeoutMs} ms`)), this.#timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.off('data', onData);
        socket.destroy();
        reject(error);
      };
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        if (length < 1 + 2 * HANDSHAKE_SIZE) return;
        clearTimeout(timer);
        socket.off('data', onData);
        const all = Buffer.concat(chunks);
        if (all[0] !== 3) return fail(new RtmpError('WSFLV_ERR_RTMP_HANDSHAKE', `RTMP: the server answered version ${all[0]}`));
        const s1 = all.subarray(1, 1 + HANDSHAKE_SIZE);
        socket.write(clientAnswer(s1).c2);
        socket.on('data', (data: Buffer) => this.#data(data));
        const rest = all.subarray(1 + 2 * HANDSHAKE_SIZE);
        if (rest.length > 0) this.#data(rest);
        resolve();
      };
      socket.on('data', onData);
      socket.once('error', (error) => fail(new RtmpError('WSFLV_ERR_RTMP_CONNECT', `RTMP: cannot reach ${this.url.host}:${this.url.port}: ${error.message}`)));
      socket.once('close', () => this.#ended());
      socket.once(this.url.secure ? 'secureConnect' : 'connect', () => socket.write(clientHello(Date.now() & 0xffffffff).hello));
    });
  }

  #ended(): void {
    this.#closed = true;
    const error = this.#error ?? new RtmpError('WSFLV_ERR_RTMP_CLOSED', 'RTMP: the server closed the connection');
    for (const [key, waiter] of this.#waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
      this.#waiting.delete(key);
    }
    if (this.#error) this.#flv.error(this.#error);
    else this.#flv.complete();
  }

  #send(message: RtmpMessage): void {
    if (this.socket.destroyed) return;
    this.socket.write(chunkMessage(message, OUT_CHUNK_SIZE));
  }

  #wait(key: number | string): Promise<RtmpCommand> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new RtmpError('WSFLV_ERR_RTMP_CLOSED', 'RTMP: the connection is closed'));
      const timer = setTimeout(() => {
        this.#waiting.delete(key);
        reject(new RtmpError('WSFLV_ERR_RTMP_TIMEOUT', `RTMP: no answer to ${typeof key === 'number' ? 'a command' : key} within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#waiting.set(key, { resolve, reject, timer });
    });
  }

  async #call(name: string, values: unknown[]): Promise<RtmpCommand> {
    const transaction = this.#transaction++;
    const answer = this.#wait(transaction);
    this.#send(command(name, transaction, values));
    const result = await answer;
    if (result.name === '_error') {
      const info = (result.args[0] ?? {}) as { code?: string; description?: string };
      throw new RtmpError('WSFLV_ERR_RTMP_REFUSED', `RTMP ${name} refused: ${info.code ?? '_error'}${info.description ? ` (${info.description})` : ''}`);
    }
    return result;
  }

  /** The next onStatus: one that already arrived unclaimed (several come in one read), or the next to come. */
  async #status(): Promise<{ level: string; code: string; description?: string }> {
    const status = this.#statuses.shift() ?? (await this.#wait('onStatus'));
    return (status.args[0] ?? {}) as { level: string; code: string; description?: string };
  }

  #data(chunk: Buffer): void {
    try {
      for (const message of this.#reader.push(chunk)) this.#message(message);
      if (this.#reader.bytesIn - this.#acked >= this.#peerWindow) {
        this.#acked = this.#reader.bytesIn;
        this.#send(acknowledgement(this.#acked % 0x100000000));
      }
    } catch (error) {
      this.#error = error as Error;
      this.socket.destroy();
    }
  }

  #message(message: RtmpMessage): void {
    switch (message.type) {
      case MSG.commandAmf0:
      case MSG.commandAmf3: {
        const cmd = decodeCommand(message);
        const key = cmd.name === '_result' || cmd.name === '_error' ? cmd.transaction : cmd.name;
        const waiter = this.#waiting.get(key);
        if (waiter) {
          clearTimeout(waiter.timer);
          this.#waiting.delete(key);
          waiter.resolve(cmd);
        } else if (cmd.name === 'onStatus' && !this.#started && this.#statuses.length < 16) {
          this.#statuses.push(cmd);
        } else if (cmd.name === 'onStatus') {
          const info = (cmd.args[0] ?? {}) as { level?: string; code?: string; description?: string };
          if (info.level === 'error') this.lastStatus = `${info.code ?? 'error'}${info.description ? `: ${info.description}` : ''}`;
          // The stream ended on the server: the play is over.
          if (this.#playing && (info.code === 'NetStream.Play.Stop' || info.code === 'NetStream.Play.UnpublishNotify' || info.level === 'error')) this.close();
        }
        return;
      }
      case MSG.windowAckSize:
        if (message.payload.length >= 4) this.#peerWindow = Math.max(1, message.payload.readUInt32BE(0));
        return;
      case MSG.userControl:
        if (message.payload.length >= 6 && message.payload.readUInt16BE(0) === USER_CONTROL.pingRequest) this.#send(userControl(USER_CONTROL.pingResponse, message.payload.readUInt32BE(2)));
        return;
      default:
        if (!this.#playing) return;
        for (const tag of messageToFlv(message)) {
          if (this.#early) this.#early.push(tag);
          else this.#flv.next(tag);
        }
    }
  }
}
