import type { Socket } from 'node:net';
import { RtmpError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ChunkReader, type ChunkReaderLimits } from './chunk-reader.js';
import { chunkMessage } from './chunk-writer.js';
import { command, decodeCommand, onStatus, parseApp, parseStreamName, type RtmpCommand } from './commands.js';
import { PLAY_STREAM_ID } from './flv-bridge.js';
import { ServerHandshake } from './handshake.js';
import { acknowledgement, MSG, setChunkSize, setPeerBandwidth, USER_CONTROL, userControl, windowAckSize, type RtmpMessage } from './messages.js';

/** The codecs this server takes and forwards (Enhanced RTMP `fourCcList`, answered to `connect`). */
export const FOURCC_LIST = ['avc1', 'hvc1', 'av01', 'vp09', 'vp08', 'mp4a', '.mp3', 'Opus', 'fLaC', 'ac-3', 'ec-3'];
/** Enhanced RTMP v2 FourCcInfoMask: CanDecode 1, CanEncode 2, CanForward 4. A relay forwards. */
const CAN_FORWARD = 0x04;
/** capsEx: Multitrack (0x02) and ModEx (0x04) are parsed by the FLV tag-body layer. */
const CAPS_EX = 0x02 | 0x04;

const WINDOW_ACK_SIZE = 2_500_000;

export interface RtmpSessionOptions {
  /** Our outgoing chunk size (announced with Set Chunk Size right after `connect`). */
  chunkSize: number;
  handshakeTimeoutMs: number;
  /** A peer that sends nothing for this long while not playing is cut (players only listen). */
  idleTimeoutMs: number;
  limits: Partial<ChunkReaderLimits>;
}

/** What a client asks once connected: to publish or to play `app/stream`. */
export interface StreamRequest {
  direction: 'publish' | 'play';
  app: string;
  stream: string;
  query: Record<string, string>;
  tcUrl: string | undefined;
}

export interface SessionEvents {
  /** The client asked; answer with `session.accept…` or `session.refuse(...)`. */
  request(session: RtmpSession, request: StreamRequest): void;
  /** Media and data messages of an accepted publisher. */
  media(session: RtmpSession, message: RtmpMessage): void;
  /** The client unpublished or stopped playing (deleteStream, FCUnpublish, closeStream). */
  unpublish(session: RtmpSession): void;
  /** The socket is gone, whoever closed it, with the reason when we closed it. */
  closed(session: RtmpSession, error?: Error): void;
}

/**
 * One RTMP client connection on the server: the handshake (bounded in time), the chunk stream in
 * both directions, protocol control (acknowledgements, ping answers), and the NetConnection /
 * NetStream commands up to a publish or play request, which the server admits or refuses.
 * Unknown commands with a transaction id get an `_error`; unknown messages are ignored. A protocol
 * violation or a bound exceeded ends the connection with the RtmpError as the reason.
 */
export class RtmpSession {
  readonly socket: Socket;
  readonly #events: SessionEvents;
  readonly #options: RtmpSessionOptions;
  readonly #logger: Logger;
  readonly #handshake = new ServerHandshake(() => Date.now() & 0xffffffff);
  readonly #reader: ChunkReader;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #peerWindow = WINDOW_ACK_SIZE;
  #acked = 0;
  #app: { app: string; query: Record<string, string> } | undefined;
  #tcUrl: string | undefined;
  /** What was asked and is being decided, or has been accepted. */
  #pending: StreamRequest | undefined;
  state: 'handshake' | 'connecting' | 'connected' | 'deciding' | 'publishing' | 'playing' | 'closed' = 'handshake';
  #closedWith: Error | undefined;

  constructor(socket: Socket, events: SessionEvents, options: RtmpSessionOptions, logger: Logger) {
    this.socket = socket;
    this.#events = events;
    this.#options = options;
    this.#logger = logger;
    this.#reader = new ChunkReader(options.limits);
    this.#handshakeTimer = setTimeout(() => this.fail(new RtmpError('WSFLV_ERR_RTMP_HANDSHAKE', `RTMP handshake not done within ${options.handshakeTimeoutMs} ms`)), options.handshakeTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.#data(chunk));
    socket.setTimeout(options.idleTimeoutMs, () => {
      if (this.state !== 'playing') this.fail(new RtmpError('WSFLV_ERR_RTMP_IDLE', `RTMP: nothing received for ${options.idleTimeoutMs} ms`));
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(this.#handshakeTimer);
      const was = this.state;
      this.state = 'closed';
      if (was !== 'closed') this.#events.closed(this, this.#closedWith);
    });
  }

  /** The app the client connected to. */
  get app(): string | undefined {
    return this.#app?.app;
  }

  get digestHandshake(): boolean {
    return this.#handshake.digest;
  }

  send(message: RtmpMessage): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    this.socket.write(chunkMessage(message, this.#options.chunkSize));
  }

  /** Admission said yes to a publish request: tell the client it may start. */
  acceptPublish(): void {
    const request = this.#pending;
    if (!request || this.state !== 'deciding') return;
    this.state = 'publishing';
    this.send(userControl(USER_CONTROL.streamBegin, PLAY_STREAM_ID));
    this.send(onStatus(PLAY_STREAM_ID, 'status', 'NetStream.Publish.Start', `${request.app}/${request.stream} is now published`, { details: request.stream }));
  }

  /** Admission said yes to a play request: tell the client the stream starts (media follows from the channel). */
  acceptPlay(): void {
    const request = this.#pending;
    if (!request || this.state !== 'deciding') return;
    this.state = 'playing';
    this.send(userControl(USER_CONTROL.streamBegin, PLAY_STREAM_ID));
    this.send(onStatus(PLAY_STREAM_ID, 'status', 'NetStream.Play.Reset', `playing and resetting ${request.stream}`, { details: request.stream }));
    this.send(onStatus(PLAY_STREAM_ID, 'status', 'NetStream.Play.Start', `started playing ${request.stream}`, { details: request.stream }));
    this.send({ csid: 4, type: MSG.dataAmf0, streamId: PLAY_STREAM_ID, timestamp: 0, payload: Buffer.from([0x02, 0x00, 0x11, ...Buffer.from('|RtmpSampleAccess', 'latin1'), 0x01, 0x01, 0x01, 0x01]) });
  }

  /** Tell the client why (a NetStream status), then close after a short linger so it can read it. */
  refuse(status: string, reason: string): void {
    if (this.state === 'closed') return;
    this.send(onStatus(PLAY_STREAM_ID, 'error', status, reason));
    this.end();
  }

  /** Close the connection: the socket ends once what was queued is written (destroyed if it does not drain). */
  end(): void {
    if (this.state === 'closed') return;
    this.socket.end();
    const socket = this.socket;
    setTimeout(() => socket.destroy(), 2000).unref();
  }

  /** A protocol error: logged by the server with this reason, connection cut. */
  fail(error: Error): void {
    if (this.state === 'closed') return;
    this.#closedWith = error;
    this.socket.destroy();
  }

  #data(chunk: Buffer): void {
    try {
      if (this.state === 'handshake') {
        const { send, rest } = this.#handshake.push(chunk);
        if (send) this.socket.write(send);
        if (!this.#handshake.done) return;
        clearTimeout(this.#handshakeTimer);
        this.state = 'connecting';
        if (!rest || rest.length === 0) return;
        chunk = rest;
      }
      for (const message of this.#reader.push(chunk)) {
        if (this.state === 'closed') return;
        this.#message(message);
      }
      this.#acknowledge();
    } catch (error) {
      this.fail(error instanceof RtmpError ? error : new RtmpError('WSFLV_ERR_RTMP_COMMAND', `RTMP: ${(error as Error).message}`));
    }
  }

  /** Some encoders stall unless they are acknowledged every window; we acknowledge what we took. */
  #acknowledge(): void {
    const total = this.#reader.bytesIn;
    if (total - this.#acked >= this.#peerWindow) {
      this.#acked = total;
      this.send(acknowledgement(total % 0x100000000));
    }
  }

  #message(message: RtmpMessage): void {
    switch (message.type) {
      case MSG.audio:
      case MSG.video:
      case MSG.dataAmf0:
      case MSG.dataAmf3:
      case MSG.aggregate:
        if (this.state === 'publishing') this.#events.media(this, message);
        return;
      case MSG.commandAmf0:
      case MSG.commandAmf3:
        this.#command(decodeCommand(message));
        return;
      case MSG.windowAckSize:
        if (message.payload.length >= 4) this.#peerWindow = Math.max(1, message.payload.readUInt32BE(0));
        return;
      case MSG.userControl:
        if (message.payload.length >= 6 && message.payload.readUInt16BE(0) === USER_CONTROL.pingRequest) {
          this.send(userControl(USER_CONTROL.pingResponse, message.payload.readUInt32BE(2)));
        }
        return;
      default:
        // Acknowledgements, peer bandwidth, shared objects: nothing to do for a live server.
        return;
    }
  }

  #command(cmd: RtmpCommand): void {
    switch (cmd.name) {
      case 'connect':
        return this.#connect(cmd);
      case 'releaseStream':
      case 'FCPublish':
      case 'FCSubscribe':
        this.send(command('_result', cmd.transaction, [null, null]));
        if (cmd.name === 'FCPublish') this.send(command('onFCPublish', 0, [null, { code: 'NetStream.Publish.Start', description: String(cmd.args[0] ?? '') }]));
        return;
      case 'createStream':
        this.send(command('_result', cmd.transaction, [null, PLAY_STREAM_ID]));
        return;
      case 'publish':
      case 'play':
        return this.#ask(cmd.name, cmd);
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        if (cmd.name === 'FCUnpublish') this.send(command('onFCUnpublish', 0, [null, { code: 'NetStream.Unpublish.Success', description: String(cmd.args[0] ?? '') }]));
        if (this.state === 'publishing' || this.state === 'playing' || this.state === 'deciding') {
          this.state = 'connected';
          this.#events.unpublish(this);
        }
        return;
      case 'getStreamLength':
        this.send(command('_result', cmd.transaction, [null, 0]));
        return;
      case '_result':
      case '_error':
      case 'onStatus':
      case 'receiveAudio':
      case 'receiveVideo':
      case 'pause':
      case '_checkbw':
        return;
      default:
        // Answered so a client waiting on a transaction does not hang; nothing else changes.
        if (cmd.transaction > 0) this.send(command('_error', cmd.transaction, [null, { level: 'error', code: 'NetConnection.Call.Failed', description: `unknown command ${cmd.name.slice(0, 64)}` }]));
        this.#logger.debug({ command: cmd.name.slice(0, 64) }, 'RTMP: unknown command ignored');
    }
  }

  #connect(cmd: RtmpCommand): void {
    if (this.state !== 'connecting') throw new RtmpError('WSFLV_ERR_RTMP_COMMAND', 'RTMP: connect sent twice');
    const app = parseApp(cmd.object?.app);
    if (!app) {
      this.send(command('_error', cmd.transaction, [null, { level: 'error', code: 'NetConnection.Connect.Rejected', description: 'connect needs an app' }]));
      this.end();
      return;
    }
    this.#app = app;
    this.#tcUrl = typeof cmd.object?.tcUrl === 'string' ? cmd.object.tcUrl : undefined;
    this.state = 'connected';
    this.send(windowAckSize(WINDOW_ACK_SIZE));
    this.send(setPeerBandwidth(WINDOW_ACK_SIZE, 2));
    // Announced before anything else we send is chunked at it.
    this.socket.write(chunkMessage(setChunkSize(this.#options.chunkSize), 128));
    const infoMap = Object.fromEntries(FOURCC_LIST.map((fourcc) => [fourcc, CAN_FORWARD]));
    this.send(
      command('_result', cmd.transaction, [
        { fmsVer: 'FMS/3,5,7,7009', capabilities: 31, mode: 1, fourCcList: FOURCC_LIST, videoFourCcInfoMap: infoMap, audioFourCcInfoMap: infoMap, capsEx: CAPS_EX },
        { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: typeof cmd.object?.objectEncoding === 'number' ? cmd.object.objectEncoding : 0 },
      ]),
    );
  }

  #ask(direction: 'publish' | 'play', cmd: RtmpCommand): void {
    const failed = direction === 'publish' ? 'NetStream.Publish.BadName' : 'NetStream.Play.StreamNotFound';
    if (this.state !== 'connected' || !this.#app) {
      this.refuse(direction === 'publish' ? 'NetStream.Publish.Failed' : 'NetStream.Play.Failed', `${direction} is only possible once, after connect`);
      return;
    }
    const name = parseStreamName(cmd.args[0]);
    if (!name) {
      this.refuse(failed, `${direction} needs a stream name`);
      return;
    }
    this.state = 'deciding';
    this.#pending = { direction, app: this.#app.app, stream: name.stream, query: { ...this.#app.query, ...name.query }, tcUrl: this.#tcUrl };
    this.#events.request(this, this.#pending);
  }
}
