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

/**
 * ffprobe a live HTTP-FLV URL once it plays with both a video and an audio track (a stream that an
 * exec source or a transcode starts comes a moment after its pipeline does), within `timeoutMs`.
 */
export async function probeWhenLive(url: string, timeoutMs = 40_000): Promise<{ streams: FfprobeStream[]; format: { duration?: string } }> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const probe = await ffprobe(url, ['-read_intervals', '%+1.5']);
      if (probe.streams.some((s) => s.codec_type === 'video') && probe.streams.some((s) => s.codec_type === 'audio')) return probe;
      last = `tracks: ${probe.streams.map((s) => s.codec_type).join(', ')}`;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not play with video and audio within ${timeoutMs} ms (last: ${String((last as Error)?.message ?? last)})`);
}
