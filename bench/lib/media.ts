import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readFlvTags } from '../../core/flv/tag-reader.js';

/** A test stream the bench publishes: generated once with ffmpeg into bench/.cache. */
export interface MediaSpec {
  name: string;
  seconds: number;
  size: string;
  videoKbps: number;
  audioKbps: number;
}

export const MEDIA: Record<'800k' | '2500k' | '6m', MediaSpec> = {
  // ~800 kb/s in all: 700k video + 96k audio, a keyframe every 2 s.
  '800k': { name: 'h264-aac-800k-90s.flv', seconds: 90, size: '640x360', videoKbps: 700, audioKbps: 96 },
  // ~2.5 Mb/s, a typical 720p publisher: the ingest bench.
  '2500k': { name: 'h264-aac-2500k-30s.flv', seconds: 30, size: '1280x720', videoKbps: 2370, audioKbps: 128 },
  // ~6 Mb/s for the stalled-player scenario.
  '6m': { name: 'h264-aac-6m-40s.flv', seconds: 40, size: '1280x720', videoKbps: 5800, audioKbps: 192 },
};

/** Path of the generated file, making it first if needed. */
export function ensureMedia(cacheDir: string, spec: MediaSpec): string {
  const file = join(cacheDir, spec.name);
  if (existsSync(file) && statSync(file).size > 0) return file;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.part`;
  const v = `${spec.videoKbps}k`;
  // prettier-ignore
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${spec.size}:rate=30`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(spec.seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
    '-b:v', v, '-maxrate', v, '-bufsize', v, '-g', '60',
    // CBR with filler so the file really runs at the nominal rate (testsrc2 compresses very well).
    '-x264-params', 'nal-hrd=cbr',
    '-c:a', 'aac', '-b:a', `${spec.audioKbps}k`,
    '-f', 'flv', tmp,
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  renameSync(tmp, file);
  return file;
}

export type TagKind = 'audio' | 'video' | 'script';

export interface BenchTag {
  kind: TagKind;
  dts: number;
  keyframe: boolean;
  config: boolean;
  /** The whole tag: header, body, PreviousTagSize. */
  bytes: Buffer;
}

export interface LoadedMedia {
  /** FLV header plus every tag before the first media frame (metadata, decoder configurations). */
  init: Buffer;
  /** Those leading tags alone, each whole (for transports that send tags, not bytes: RTMP). */
  initTags: Buffer[];
  /** Media tags in file order. */
  tags: BenchTag[];
  /** dts of the last tag plus one frame: where a loop's timestamps continue. */
  durationMs: number;
  bytes: number;
}

/** Read the file into whole tags with readFlvTags (core/flv/tag-reader.ts). */
export async function loadMedia(file: string): Promise<LoadedMedia> {
  const initParts: Buffer[] = [];
  const initTags: Buffer[] = [];
  const tags: BenchTag[] = [];
  let bytes = 0;
  for await (const { header, tag, packet } of readFlvTags(createReadStream(file))) {
    if (header) initParts.push(header);
    bytes += tag.length;
    const leading = tags.length === 0 && (packet.kind === 'script' || packet.config);
    if (leading) {
      initParts.push(tag);
      initTags.push(tag);
    }
    else if (packet.kind !== 'script') tags.push({ kind: packet.kind, dts: packet.dts, keyframe: packet.keyframe, config: packet.config, bytes: tag });
  }
  const last = tags.at(-1);
  return { init: Buffer.concat(initParts), initTags, tags, durationMs: last ? last.dts + 34 : 0, bytes };
}

/** A copy of a tag buffer with its timestamp set to `dts` (for looping the file). */
export function retimeTag(tag: Buffer, dts: number): Buffer {
  const out = Buffer.from(tag);
  out[4] = (dts >>> 16) & 0xff;
  out[5] = (dts >>> 8) & 0xff;
  out[6] = dts & 0xff;
  out[7] = (dts >>> 24) & 0xff;
  return out;
}
