import { isAbsolute, join, relative, resolve } from 'node:path';
import { inject, injectable } from 'inversify';
import { Observable, type Subscription } from 'rxjs';
import { z } from 'zod';
import { CLOCK, type Clock } from '../core/clock.js';
import { encodeScriptData, isEcmaArray, markEcmaArray } from '../core/flv/amf0.js';
import { FlvFileWriter } from '../core/flv/file-writer.js';
import type { MediaPacket } from '../core/media/packet.js';
import type { SinkComponent, SinkInstance, StreamContext } from '../core/pipeline/component.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';
import { safeName } from './safe-name.js';

const options = z
  .object({
    directory: z.string().min(1).describe('recordings go to DIRECTORY/APP/STREAM/YYYYMMDDTHHMMSSZ.flv'),
    splitSeconds: z
      .number().min(1).max(7 * 24 * 3600)
      .optional()
      .describe('start a new file at the first video keyframe at least this long after the file began (audio-only streams: at any audio frame)'),
    flushMs: z
      .number().int().min(0).max(60_000)
      .default(1000)
      .describe('pending data is written to disk at least this often (0: after every tag); bounds what a crash loses'),
    flushBytes: z
      .number().int().min(4096).max(64 * 1024 * 1024)
      .default(256 * 1024)
      .describe('pending data is written to disk once it reaches this size'),
  })
  .strict();

type Options = z.infer<typeof options>;

/** Longest name kept for one path part (APP or STREAM); the file system's limit is usually 255 bytes. */
const MAX_PART_LENGTH = 100;
/** Files with the same start second get `-1`, `-2`... before giving up. */
const MAX_NAME_SUFFIX = 999;

/**
 * The directory of one stream's recordings, `DIRECTORY/APP/STREAM`, from a stream key that is not
 * trusted: each part is reduced to `[A-Za-z0-9_.-]` (anything else, and leading dots, become `_`),
 * an empty, `.` or `..` part is refused (throws), and the result is checked to lie inside
 * `directory`. A key without `/` (a file source's) is recorded under `defaultApp` (the pipeline name);
 * parts after the second are joined to the stream name with `_`.
 */
export function recordingDirectory(directory: string, key: string, defaultApp: string): string {
  const parts = key.split('/');
  const [app, ...stream] = parts.length === 1 ? [defaultApp, key] : parts;
  const safe = [app!, stream.map(safePart).join('_')].map(safePart);
  const root = resolve(directory);
  const target = resolve(root, ...safe);
  const inside = relative(root, target);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
    throw new Error(`stream key ${JSON.stringify(key.slice(0, 64))} does not name a directory inside ${root}`);
  }
  return target;
}

function safePart(part: string): string {
  if (part === '' || part === '.' || part === '..') throw new Error(`refusing the path part ${JSON.stringify(part)} from a stream key`);
  return safeName(part).slice(0, MAX_PART_LENGTH);
}

/** `YYYYMMDDTHHMMSSZ` (UTC, ISO 8601 basic format) for an epoch-milliseconds time. */
export function startTimeName(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d+/, '').replace(/[-:]/g, '');
}

/**
 * Records each stream to FLV files under `directory`: `APP/STREAM/YYYYMMDDTHHMMSSZ.flv`, named after
 * the time the file starts (the stream's wall-clock start plus the media time elapsed, so a headless
 * run that reads faster than real time still gets distinct, meaningful names); a name that exists
 * already gets `-1`, `-2`... and an existing file is never overwritten.
 *
 * With `splitSeconds`, a new file begins at the first video keyframe at least that long after the
 * current file began (audio-only streams: at the first audio frame). Every file plays on its own: it
 * starts with the FLV header, the latest onMetaData (without `duration` and `filesize`, which describe
 * the source, not the file) and the current sequence headers, then the keyframe. Timestamps are
 * rebased per file, so each file starts near 0 (a packet that would fall below 0 is written at 0).
 * Video frames that precede the file's first keyframe are left out.
 *
 * Data is handed to the disk in whole tags every `flushMs` or `flushBytes`, whichever comes first,
 * and written off the event loop (a player's latency never waits on the recording's disk), so a
 * killed process loses at most that much and what was in flight; a disk that falls more than 64 MiB
 * behind ends the recording (WSFLV_ERR_WRITE_BACKLOG); an unpublish, a drain (SIGTERM) or the end of a file
 * closes the file with its header flags set from the tracks written.
 *
 * A failure (a directory that cannot be created, a disk that is full, a key that names no safe
 * directory) ends the recording of that stream with one logged error: the file is cut back to its
 * last whole tag and closed, later packets are ignored, and the sink completes, so the stream and
 * every other sink (live players) go on.
 */
@injectable()
export class RecordSink implements SinkComponent<Options> {
  readonly role = 'sink';
  readonly type = 'record';
  readonly description = 'Records each stream to FLV files under a directory, optionally split at keyframes';
  readonly consumes = MEDIA_PACKETS;
  readonly options = options;

  constructor(@inject(CLOCK) private readonly clock: Clock) {}

  create(config: Options, pipeline: string): SinkInstance {
    return {
      consume: (ctx: StreamContext, data$: Observable<MediaPacket>) =>
        new Observable<never>((subscriber) => {
          const recording = new Recording(config, ctx, pipeline, this.clock);
          let upstream: Subscription | undefined;
          let stopped = false;
          const stop = (error: unknown) => {
            if (stopped) return;
            stopped = true;
            recording.fail(error);
            upstream?.unsubscribe();
            subscriber.complete();
          };
          recording.onAsyncError = stop;
          upstream = data$.subscribe({
            next: (packet) => {
              if (stopped) return;
              try {
                recording.write(packet);
              } catch (error) {
                stop(error);
              }
            },
            error: (error) => {
              if (stopped) return;
              stopped = true;
              void recording.finish().then(() => subscriber.error(error));
            },
            complete: () => {
              if (stopped) return;
              stopped = true;
              // Complete once the file is on disk and closed: a drain waits for recordings to be whole.
              void recording.finish().then(() => subscriber.complete());
            },
          });
          if (stopped) upstream.unsubscribe();
          return () => {
            upstream?.unsubscribe();
            void recording.finish();
          };
        }),
    };
  }
}

/** One stream's recording: the open file, and what a new file must start with. */
class Recording {
  /** Called when a timed flush fails outside of `write()`. */
  onAsyncError: (error: unknown) => void = () => undefined;
  readonly #config: Options;
  readonly #ctx: StreamContext;
  readonly #pipeline: string;
  readonly #clock: Clock;
  #directory: string | undefined;
  #writer: FlvFileWriter | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;
  #finished: Promise<void> = Promise.resolve();
  /** Files of earlier splits still being written out and closed. */
  readonly #closing: Promise<void>[] = [];
  #files = 0;
  /** Wall-clock time and dts of the stream's first packet: file names are derived from them. */
  #streamStart: { wall: number; dts: number } | undefined;
  /** dts of the packet that opened the current file (rebase offset). */
  #fileStartDts = 0;
  #keyframeInFile = false;
  #hasVideo = false;
  #metadata: MediaPacket | undefined;
  readonly #configs = new Map<string, MediaPacket>();

  constructor(config: Options, ctx: StreamContext, pipeline: string, clock: Clock) {
    this.#config = config;
    this.#ctx = ctx;
    this.#pipeline = pipeline;
    this.#clock = clock;
  }

  write(packet: MediaPacket): void {
    if (this.#ended) return;
    if (packet.kind === 'video') this.#hasVideo = true;
    if (!this.#writer) this.#open(packet);
    else if (this.#splitsAt(packet)) {
      const closing = this.#closeFile();
      closing.catch((error: unknown) => this.onAsyncError(error));
      this.#closing.push(closing.catch(() => undefined));
      this.#open(packet);
    }
    if (packet.kind === 'video' && !packet.config) {
      if (packet.keyframe) this.#keyframeInFile = true;
      else if (!this.#keyframeInFile) return;
    }
    const isMetadata = packet.kind === 'script' && packet.script?.name === 'onMetaData';
    const stored = isMetadata ? fileMetadata(packet) : packet;
    this.#put(stored, Math.max(0, packet.dts - this.#fileStartDts));
    if (isMetadata) this.#metadata = stored;
    if (packet.config) this.#configs.set(`${packet.kind}:${packet.trackId ?? 0}`, packet);
  }

  /** The stream ended (or the sink was unsubscribed): close the file. Never rejects. */
  finish(): Promise<void> {
    if (this.#ended) return this.#finished;
    this.#ended = true;
    this.#finished = Promise.all([...this.#closing, this.#closeFile()]).then(
      () => {
        if (this.#files > 0) this.#ctx.logger.info({ files: this.#files, directory: this.#directory }, 'recording finished');
      },
      (error: unknown) => this.#logFailure(error),
    );
    return this.#finished;
  }

  /** End the recording after an error: keep what is on disk, log once. Never throws. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    // The first error is the one worth reporting: a failing close would only repeat it.
    this.#finished = this.#closeFile().catch(() => undefined);
    this.#logFailure(error);
  }

  #splitsAt(packet: MediaPacket): boolean {
    const split = this.#config.splitSeconds;
    if (split === undefined || packet.config || packet.dts - this.#fileStartDts < split * 1000) return false;
    return this.#hasVideo ? packet.kind === 'video' && packet.keyframe && !packet.endOfSequence : packet.kind === 'audio' && !packet.endOfSequence;
  }

  #open(packet: MediaPacket): void {
    this.#streamStart ??= { wall: this.#clock.wallNow(), dts: packet.dts };
    this.#directory ??= recordingDirectory(this.#config.directory, this.#ctx.key, this.#pipeline);
    const stamp = startTimeName(this.#streamStart.wall + Math.max(0, packet.dts - this.#streamStart.dts));
    for (let n = 0; !this.#writer; n++) {
      const path = join(this.#directory, n === 0 ? `${stamp}.flv` : `${stamp}-${n}.flv`);
      try {
        this.#writer = new FlvFileWriter(path, { exclusive: true, batchBytes: this.#config.flushBytes });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n >= MAX_NAME_SUFFIX) throw error;
      }
    }
    this.#files++;
    this.#fileStartDts = packet.dts;
    this.#keyframeInFile = false;
    this.#ctx.logger.info({ path: this.#writer.path }, 'recording file opened');
    // What a player needs before the first frame; the packet that opened the file follows.
    if (this.#metadata) this.#put(this.#metadata, 0);
    for (const config of this.#configs.values()) this.#put(config, 0);
  }

  #put(packet: MediaPacket, dts: number): void {
    const writer = this.#writer!;
    writer.write(dts === packet.dts ? packet : { ...packet, dts });
    if (this.#config.flushMs === 0) writer.flush();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        try {
          this.#writer?.flush();
        } catch (error) {
          this.onAsyncError(error);
        }
      }, this.#config.flushMs);
      this.#timer.unref();
    }
  }

  /** Writes out and closes the current file, in the background: resolves once it is closed. */
  #closeFile(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const writer = this.#writer;
    if (!writer) return Promise.resolve();
    this.#writer = undefined;
    return writer.close().then(() => {
      this.#ctx.logger.info({ path: writer.path, tags: writer.tags, bytes: writer.bytesWritten }, 'recording file closed');
    });
  }

  #logFailure(error: unknown): void {
    const err = error as NodeJS.ErrnoException;
    this.#ctx.logger.error(
      { err, code: err?.code, directory: this.#config.directory },
      `recording failed, the stream goes on without it: ${err?.message ?? String(error)}`,
    );
  }
}

/** onMetaData as written to a file: plain (not `@setDataFrame`), without the source's duration and size. */
function fileMetadata(packet: MediaPacket): MediaPacket {
  const [first, ...rest] = packet.script!.values;
  if (typeof first !== 'object' || first === null || Array.isArray(first)) return packet;
  const { duration: _duration, filesize: _filesize, ...kept } = first as Record<string, unknown>;
  if (isEcmaArray(first)) markEcmaArray(kept);
  const values = [kept, ...rest];
  try {
    return { ...packet, body: encodeScriptData('onMetaData', values), script: { name: 'onMetaData', values } };
  } catch {
    return packet;
  }
}
