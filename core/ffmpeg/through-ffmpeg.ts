import { Observable, type OperatorFunction } from 'rxjs';
import { WsflvError } from '../errors.js';
import { encodeScriptData, isEcmaArray, markEcmaArray } from '../flv/amf0.js';
import { FlvDemuxer } from '../flv/demuxer.js';
import type { Logger } from '../logger.js';
import type { MediaPacket } from '../media/packet.js';
import { startChild, type ManagedChild } from '../process/child.js';
import { FfmpegInput, type InputContainer } from './input.js';

/** ffmpeg failed one stream's conversion: it exited, stalled, or wrote what is not FLV. The message quotes its stderr. */
export class TranscodeError extends WsflvError {}

export interface ThroughFfmpegOptions {
  ffmpeg: string;
  /** ffmpeg's arguments for the container it will read. */
  args(input: InputContainer): string[];
  logger: Logger;
  /** Bytes waiting for ffmpeg's stdin before frames are dropped up to the next keyframe. */
  maxQueueBytes: number;
  /** Input keeps coming but ffmpeg wrote nothing for this long: the stream's conversion failed. */
  stallTimeoutMs: number;
  onDropped?(frames: number): void;
  /**
   * Asks the source to wait (a file source pauses reading; a live one cannot, `ctx.hold`): called
   * whenever ffmpeg's stdin is full, so a file job is paced by ffmpeg and loses nothing, while a live
   * stream is bounded by `maxQueueBytes`. Returns whether the source waits; one that does is never
   * dropped from (what it already read still arrives, but no more follows until ffmpeg catches up).
   */
  hold?(until: Promise<unknown>): boolean;
}

/** onMetaData fields ffmpeg's output owns; everything else (title, custom fields) comes from the input. */
const OUTPUT_OWNS = new Set([
  'width', 'height', 'framerate', 'videocodecid', 'videodatarate', 'audiocodecid', 'audiodatarate',
  'audiosamplerate', 'audiosamplesize', 'stereo', 'encoder', 'duration', 'filesize', 'hasAudio', 'hasVideo',
]);

function mergeMetadata(input: Record<string, unknown> | undefined, output: MediaPacket): MediaPacket {
  const [value, ...rest] = output.script!.values;
  if (value === null || typeof value !== 'object') return output;
  const merged: Record<string, unknown> = {};
  for (const [field, v] of Object.entries(input ?? {})) if (!OUTPUT_OWNS.has(field)) merged[field] = v;
  Object.assign(merged, value);
  if (isEcmaArray(value)) markEcmaArray(merged);
  const values = [merged, ...rest];
  return { ...output, body: encodeScriptData('onMetaData', values), script: { name: 'onMetaData', values } };
}

/**
 * One stream through one ffmpeg child: packets in on its stdin (FLV, or Matroska for codecs ffmpeg 5.1
 * reads only there), FLV out of its stdout parsed back into packets, timestamps as the input's
 * (`-copyts`), onMetaData the input's updated with what the output carries. The child starts with the
 * stream's first frame and ends with it: input complete → stdin closed → output drained → complete.
 * Bounded: past `maxQueueBytes` waiting for stdin, frames are dropped until the next video keyframe.
 * ffmpeg exiting early, stalling or writing garbage errors with TranscodeError quoting its stderr.
 */
export function throughFfmpeg(options: ThroughFfmpegOptions): OperatorFunction<MediaPacket, MediaPacket> {
  return (source) =>
    new Observable<MediaPacket>((subscriber) => {
      const input = new FfmpegInput();
      const demuxer = new FlvDemuxer();
      let child: ManagedChild | undefined;
      let inputEnded = false;
      let failed = false;
      let inputMetadata: Record<string, unknown> | undefined;
      let dropping = false;
      let holding = false;
      let paced = false;
      let mayHold = options.hold !== undefined;
      let stallTimer: NodeJS.Timeout | undefined;

      const fail = (code: string, why: string) => {
        if (failed) return;
        failed = true;
        clearTimeout(stallTimer);
        const stderr = child?.lastStderr();
        subscriber.error(new TranscodeError(code, `ffmpeg ${why}${stderr ? `: ${stderr}` : ''}`));
        void child?.stop();
      };
      // Armed while ffmpeg owes output: input written and nothing back yet, or input ended and ffmpeg not yet done.
      const armStall = () => {
        if (stallTimer || failed) return;
        stallTimer = setTimeout(() => fail('WSFLV_ERR_TRANSCODE_STALLED', `wrote nothing for ${options.stallTimeoutMs} ms ${inputEnded ? 'after its input ended' : 'while input kept coming'}`), options.stallTimeoutMs);
      };

      const start = (container: InputContainer) => {
        const args = options.args(container);
        options.logger.debug({ args: args.join(' ') }, 'starting ffmpeg');
        child = startChild({ command: options.ffmpeg, args, logger: options.logger, stdin: true, stderrLines: 4 });
        const stdout = child.process.stdout!;
        stdout.on('data', (chunk: Buffer) => {
          if (failed) return;
          clearTimeout(stallTimer);
          stallTimer = undefined;
          if (inputEnded) armStall();
          let packets: MediaPacket[];
          try {
            packets = demuxer.push(chunk);
          } catch (error) {
            return fail('WSFLV_ERR_TRANSCODE_OUTPUT', `wrote what is not FLV (${(error as Error).message})`);
          }
          for (const packet of packets) {
            subscriber.next(packet.script?.name === 'onMetaData' ? mergeMetadata(inputMetadata, packet) : packet);
          }
        });
        void child.finished.then(({ code, signal }) => {
          if (failed) return;
          clearTimeout(stallTimer);
          if (!inputEnded) return fail('WSFLV_ERR_TRANSCODE_EXITED', code === null ? `was killed (${signal})` : `exited with code ${code} mid-stream`);
          if (code !== 0) return fail('WSFLV_ERR_TRANSCODE_EXITED', `exited with code ${code ?? signal}`);
          subscriber.complete();
        });
      };

      const write = (buffers: Buffer[]) => {
        if (!child) {
          if (buffers.length === 0) return;
          start(input.container!);
        }
        const stdin = child!.process.stdin!;
        for (const buffer of buffers) stdin.write(buffer);
        if (buffers.length > 0) armStall();
        if (mayHold && options.hold && !holding && stdin.writableNeedDrain) {
          holding = true;
          paced = options.hold(new Promise<void>((resolve) => {
            const release = () => {
              holding = false;
              stdin.off('drain', release);
              stdin.off('close', release);
              resolve();
            };
            stdin.on('drain', release);
            stdin.on('close', release);
          }));
          // A source that cannot wait (a live one) will not start to: stop asking.
          if (!paced) mayHold = false;
        }
      };

      const subscription = source.subscribe({
        next(packet) {
          if (failed) return;
          if (packet.script?.name === 'onMetaData') {
            const value = packet.script.values[0];
            if (value !== null && typeof value === 'object') inputMetadata = value as Record<string, unknown>;
            return;
          }
          // Bounded: a stream whose ffmpeg cannot keep up skips to the next keyframe rather than queueing without end.
          const queued = child?.process.stdin?.writableLength ?? 0;
          if (!packet.config && !paced) {
            if (dropping && packet.kind === 'video' && packet.keyframe && queued < options.maxQueueBytes / 2) dropping = false;
            else if (!dropping && queued > options.maxQueueBytes) dropping = true;
            if (dropping) {
              options.onDropped?.(1);
              return;
            }
          }
          try {
            write(input.push(packet));
          } catch (error) {
            fail('WSFLV_ERR_TRANSCODE_INPUT', `cannot be fed this stream: ${(error as Error).message}`);
          }
        },
        error(error) {
          failed = true;
          clearTimeout(stallTimer);
          void child?.stop();
          subscriber.error(error);
        },
        complete() {
          if (failed) return;
          inputEnded = true;
          clearTimeout(stallTimer);
          try {
            write(input.flush());
          } catch (error) {
            return fail('WSFLV_ERR_TRANSCODE_INPUT', `cannot be fed this stream: ${(error as Error).message}`);
          }
          if (!child) return subscriber.complete();
          if (input.skipped > 0) options.logger.warn({ frames: input.skipped }, 'frames of a track that started after the first frame were not transcoded');
          child.process.stdin!.end();
          armStall();
        },
      });
      return () => {
        subscription.unsubscribe();
        clearTimeout(stallTimer);
        void child?.stop();
      };
    });
}
