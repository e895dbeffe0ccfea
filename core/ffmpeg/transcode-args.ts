/** What a transcode produces: each track copied or re-encoded. Shared by the `transcode` stage and its bench. */
export interface VideoOutput {
  codec: 'copy' | 'h264';
  width?: number;
  height?: number;
  fps?: number;
  bitrateKbps?: number;
  gopSeconds?: number;
  preset?: string;
  /** x264 tune; `zerolatency` (no B-frames, no lookahead) suits live. */
  tune?: string;
}

export interface AudioOutput {
  codec: 'copy' | 'aac' | 'opus';
  bitrateKbps?: number;
  sampleRate?: number;
  channels?: number;
}

export interface TranscodeArgsInput {
  video: VideoOutput;
  audio: AudioOutput;
  /** Appended before the output: anything the options do not cover. */
  args?: readonly string[];
  /** The container ffmpeg reads on stdin. */
  input: 'flv' | 'matroska';
}

function videoArgs(video: VideoOutput): string[] {
  if (video.codec === 'copy') return ['-c:v', 'copy'];
  const out = ['-c:v', 'libx264', '-preset', video.preset ?? 'veryfast', '-pix_fmt', 'yuv420p'];
  if (video.tune) out.push('-tune', video.tune);
  const filters: string[] = [];
  // -2 keeps the aspect ratio with an even size, which 4:2:0 needs.
  if (video.width || video.height) filters.push(`scale=${video.width ?? -2}:${video.height ?? -2}`);
  if (video.fps) filters.push(`fps=${video.fps}`);
  if (filters.length > 0) out.push('-vf', filters.join(','));
  if (video.bitrateKbps) out.push('-b:v', `${video.bitrateKbps}k`, '-maxrate', `${video.bitrateKbps}k`, '-bufsize', `${video.bitrateKbps * 2}k`);
  if (video.gopSeconds) {
    // A keyframe every gopSeconds whatever the frame rate; no extra ones at scene cuts, so the GOP a late joiner waits for is bounded.
    out.push('-force_key_frames', `expr:gte(t,n_forced*${video.gopSeconds})`, '-sc_threshold', '0');
    if (video.fps) out.push('-g', String(Math.max(1, Math.round(video.fps * video.gopSeconds))));
  }
  return out;
}

function audioArgs(audio: AudioOutput): string[] {
  if (audio.codec === 'copy') return ['-c:a', 'copy'];
  const out = ['-c:a', audio.codec === 'aac' ? 'aac' : 'libopus'];
  if (audio.bitrateKbps) out.push('-b:a', `${audio.bitrateKbps}k`);
  if (audio.sampleRate) out.push('-ar', String(audio.sampleRate));
  if (audio.channels) out.push('-ac', String(audio.channels));
  return out;
}

/**
 * ffmpeg's arguments for one stream: read `input` on stdin with the input's own timestamps kept
 * (`-copyts`, so the output lines up with what players already have), write FLV on stdout.
 */
export function transcodeArgs(options: TranscodeArgsInput): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    // Live input: start once the stream's configuration is known, not after seconds of probing.
    // (Not `-fflags nobuffer`: ffmpeg 5.1 then drops the packets it probed, the stream's first GOP.)
    '-probesize', '65536', '-analyzeduration', '500000',
    '-copyts',
    '-f', options.input, '-i', 'pipe:0',
    '-map', '0:v?', '-map', '0:a?',
    ...videoArgs(options.video),
    ...audioArgs(options.audio),
    ...(options.args ?? []),
    '-flvflags', 'no_duration_filesize',
    '-f', 'flv', 'pipe:1',
  ];
}
