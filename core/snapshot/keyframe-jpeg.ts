import { FfmpegInput } from '../ffmpeg/input.js';
import type { MediaPacket } from '../media/packet.js';
import { startChild } from '../process/child.js';
import { WsflvError } from '../errors.js';

/** Bound on one JPEG: a keyframe is decoded in milliseconds, so past this ffmpeg is stuck. */
const DECODE_TIMEOUT_MS = 10_000;
const MAX_JPEG_BYTES = 8 << 20;

/**
 * Decodes one keyframe (with its sequence header) into a JPEG, `width` wide, with an ffmpeg child:
 * the stream's bytes as ffmpeg reads them (FLV, or Matroska for Enhanced RTMP codecs), one frame out.
 */
export async function keyframeToJpeg(ffmpeg: string, config: MediaPacket | undefined, keyframe: MediaPacket, width: number): Promise<Buffer> {
  const input = new FfmpegInput();
  const bytes = [...(config ? input.push(config) : []), ...input.push(keyframe), ...input.flush()];
  const child = startChild({
    command: ffmpeg,
    args: ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', input.container ?? 'flv', '-i', 'pipe:0', '-frames:v', '1', '-vf', `scale=${width}:-2`, '-q:v', '5', '-f', 'image2', '-c:v', 'mjpeg', 'pipe:1'],
    stdin: true,
    stderrLines: 3,
  });
  const chunks: Buffer[] = [];
  let size = 0;
  child.process.stdout!.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_JPEG_BYTES) chunks.push(chunk);
  });
  const stdin = child.process.stdin!;
  for (const buffer of bytes) stdin.write(buffer);
  stdin.end();
  const timer = setTimeout(() => void child.stop(), DECODE_TIMEOUT_MS);
  const { code } = await child.finished; // stdout read to its end, not only the exit seen
  clearTimeout(timer);
  const jpeg = Buffer.concat(chunks);
  if (code !== 0 || jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) {
    throw new WsflvError('WSFLV_ERR_SNAPSHOT', `ffmpeg made no JPEG of the keyframe at ${keyframe.dts} ms (exit ${code})${child.lastStderr() ? `: ${child.lastStderr()}` : ''}`);
  }
  return jpeg;
}

/** Width and height from a baseline or progressive JPEG's SOF marker. */
export function jpegSize(jpeg: Buffer): { width: number; height: number } {
  let at = 2;
  while (at + 9 < jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1]!;
    const length = jpeg.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xc3) return { height: jpeg.readUInt16BE(at + 5), width: jpeg.readUInt16BE(at + 7) };
    at += 2 + length;
  }
  return { width: 0, height: 0 };
}
