import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface FfprobeStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
}

/** ffprobe's view of a file or URL: streams and format. */
export async function ffprobe(target: string, extra: string[] = []): Promise<{ streams: FfprobeStream[]; format: { duration?: string } }> {
  const { stdout } = await exec('ffprobe', ['-v', 'error', ...extra, '-show_streams', '-show_format', '-of', 'json', target], { timeout: 30_000 });
  return JSON.parse(stdout);
}

/** Per-packet pts/dts as ffprobe reads them (ms), for timestamp checks. */
export async function ffprobePackets(target: string): Promise<{ codec_type: string; pts: number; dts: number; flags: string; size: number }[]> {
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-show_entries', 'packet=codec_type,pts,dts,flags,size', '-of', 'json', target], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  return (JSON.parse(stdout).packets as { codec_type: string; pts: string; dts: string; flags: string; size: string }[]).map((p) => ({
    codec_type: p.codec_type,
    pts: Number(p.pts),
    dts: Number(p.dts),
    flags: p.flags,
    size: Number(p.size),
  }));
}
