/**
 * FLV stream analysis, ffprobe-style: tracks and their parameters, duration, tag counts, keyframes and
 * GOP lengths, per-track bitrates, timestamp anomalies and the onMetaData content.
 *
 * FlvProbe is incremental and keeps O(tracks) state (plus a bounded anomaly list), so the same code
 * serves a one-shot file report and a live stream that is inspected while it runs. probeFlvStream()
 * drives it from raw bytes for the file case.
 */
import { FlvError } from '../errors.js';
import { describeTrack } from '../codecs/describe.js';
import type { Codec, MediaPacket } from '../media/packet.js';
import type { TrackInfo } from '../media/track.js';
import { FLV_MAX_TAG_SIZE, FlvDemuxer, type FlvHeader, type FlvWarning } from './demuxer.js';

/** Tag header (11) plus the PreviousTagSize (4) that follows every tag body. */
const TAG_OVERHEAD = 15;

export type ProbeAnomalyCode =
  | 'timestamp-regression'
  | 'timestamp-gap'
  | 'previous-tag-size'
  | 'stream-id'
  | 'header-flags'
  | 'codec-config'
  | 'config-change'
  | 'missing-config'
  | 'no-keyframe'
  | 'metadata-mismatch';

export interface ProbeAnomaly {
  code: ProbeAnomalyCode;
  message: string;
  /** Byte offset of the tag (or field) concerned, when there is one. */
  offset?: number;
}

export interface GopStats {
  /** Number of complete GOPs measured (keyframe to next keyframe). */
  count: number;
  minMs: number;
  avgMs: number;
  maxMs: number;
}

export interface ProbeTrack {
  type: 'audio' | 'video';
  codec: Codec;
  /** Enhanced RTMP multitrack id; 0 for ordinary single-track streams. */
  trackId: number;
  profile?: string;
  level?: string;
  codecString?: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  /** Every tag of the track: frames, sequence headers, end-of-sequence markers, command frames. */
  tags: number;
  /** Coded frames only (what ffprobe counts as packets). */
  frames: number;
  /** Video only: frames that are random access points. */
  keyframes?: number;
  /** Codec payload bytes of the frames (FLV's per-tag framing excluded). */
  bytes: number;
  /** Average bits per second over the track's duration; 0 when it has no measurable duration. */
  bitrate: number;
  /** Decode timestamp of the first frame, ms. */
  startMs: number;
  durationMs: number;
  /** Video only: frames per second over the track's duration. */
  frameRate?: number;
  /** Video only: keyframe spacing; null with fewer than two keyframes. */
  gop?: GopStats | null;
}

export interface ProbeResult {
  header: FlvHeader | null;
  tracks: ProbeTrack[];
  tags: { audio: number; video: number; script: number; total: number };
  /** FLV bytes accounted for: header plus whole tags. */
  bytes: number;
  /** From the earliest frame's decode time to the end of the last-presented frame, ms. */
  durationMs: number;
  /** All FLV bytes over durationMs, bits per second. */
  bitrate: number;
  /** Video keyframes over all video tracks. */
  keyframes: number;
  /** GOP statistics of the first video track, null without one. */
  gop: GopStats | null;
  /** The first onMetaData object, null when the stream has none. */
  metadata: Record<string, unknown> | null;
  /** The first `maxAnomalies` anomalies in stream order (derived ones last). */
  anomalies: ProbeAnomaly[];
  /** How many anomalies of each code were seen in all, including those not kept in `anomalies`. */
  anomalyCounts: Partial<Record<ProbeAnomalyCode, number>>;
  /** Why reading stopped early; what was read before it is still reported. */
  error: { code: string; message: string; offset: number } | null;
}

export interface FlvProbeOptions {
  /** A dts step larger than this within a track is reported as a gap. Default 1000 ms. */
  gapThresholdMs?: number;
  /** Anomalies kept with their details; further ones are only counted. Default 100. */
  maxAnomalies?: number;
}

/** Codecs that cannot be decoded before their sequence header has been seen. */
const NEEDS_CONFIG = new Set<Codec>(['avc', 'hevc', 'av1', 'aac']);

interface TrackState {
  type: 'audio' | 'video';
  trackId: number;
  codec: Codec | undefined;
  info: TrackInfo | undefined;
  /** Legacy audio describes itself in every tag; looking once is enough. */
  described: boolean;
  sawConfig: boolean;
  tags: number;
  frames: number;
  keyframes: number;
  bytes: number;
  firstDts: number;
  lastDts: number;
  /** Latest positive dts step: the duration given to the track's last frame. */
  frameDuration: number;
  maxPts: number;
  lastKeyDts: number;
  gopCount: number;
  gopSum: number;
  gopMin: number;
  gopMax: number;
}

export class FlvProbe {
  private readonly gapThresholdMs: number;
  private readonly maxAnomalies: number;
  private headerInfo: FlvHeader | null = null;
  private readonly tracks = new Map<string, TrackState>();
  private readonly tagCounts = { audio: 0, video: 0, script: 0 };
  private bytes = 0;
  private metadata: Record<string, unknown> | null = null;
  private readonly anomalies: ProbeAnomaly[] = [];
  private readonly anomalyCounts: Partial<Record<ProbeAnomalyCode, number>> = {};
  private error: ProbeResult['error'] = null;

  constructor(options: FlvProbeOptions = {}) {
    this.gapThresholdMs = options.gapThresholdMs ?? 1000;
    this.maxAnomalies = options.maxAnomalies ?? 100;
  }

  get hasHeader(): boolean {
    return this.headerInfo !== null;
  }

  setHeader(header: FlvHeader): void {
    this.headerInfo = { ...header };
    this.bytes += header.dataOffset + 4;
  }

  /** Demuxer warnings (PreviousTagSize mismatches, non-zero StreamIDs) are anomalies of the stream. */
  warning(w: FlvWarning): void {
    const code: ProbeAnomalyCode = w.code === 'WSFLV_ERR_FLV_PREVIOUS_TAG_SIZE' ? 'previous-tag-size' : 'stream-id';
    this.note(this.anomalies, this.anomalyCounts, { code, message: w.message, offset: w.offset });
  }

  /** Record the error that stopped reading. */
  fail(error: FlvError): void {
    this.error = { code: error.code, message: error.message, offset: error.offset };
  }

  push(packet: MediaPacket): void {
    this.bytes += packet.body.length + TAG_OVERHEAD;
    this.tagCounts[packet.kind]++;
    if (packet.kind === 'script') {
      if (this.metadata === null && packet.script?.name === 'onMetaData') {
        const value = packet.script.values[0];
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) this.metadata = value as Record<string, unknown>;
      }
      return;
    }
    const track = this.track(packet.kind, packet.trackId ?? 0);
    track.tags++;
    if (packet.kind === 'video' && isVideoSideData(packet)) return;
    track.codec ??= packet.codec;

    if (packet.config || (!track.described && packet.kind === 'audio')) this.describe(track, packet);
    if (packet.config) {
      track.sawConfig = true;
      return;
    }
    if (packet.endOfSequence) return;

    if (!track.sawConfig && track.frames === 0 && NEEDS_CONFIG.has(packet.codec)) {
      this.anomaly({ code: 'missing-config', message: `${track.type} track ${track.trackId}: ${packet.codec} frame before any sequence header`, offset: packet.offset });
    }
    if (track.frames > 0) {
      const step = packet.dts - track.lastDts;
      if (step < 0) {
        this.anomaly({
          code: 'timestamp-regression',
          message: `${track.type} track ${track.trackId}: dts goes back from ${track.lastDts} to ${packet.dts} ms`,
          offset: packet.offset,
        });
      } else if (step > this.gapThresholdMs) {
        this.anomaly({
          code: 'timestamp-gap',
          message: `${track.type} track ${track.trackId}: dts jumps ${step} ms, from ${track.lastDts} to ${packet.dts} ms`,
          offset: packet.offset,
        });
      } else if (step > 0) {
        track.frameDuration = step;
      }
    } else {
      track.firstDts = packet.dts;
    }
    track.frames++;
    track.lastDts = packet.dts;
    track.maxPts = track.frames === 1 ? packet.pts : Math.max(track.maxPts, packet.pts);
    track.bytes += packet.body.length - packet.dataOffset;

    if (packet.kind === 'video' && packet.keyframe) {
      if (track.keyframes > 0) {
        const gop = packet.dts - track.lastKeyDts;
        track.gopCount++;
        track.gopSum += gop;
        track.gopMin = Math.min(track.gopMin, gop);
        track.gopMax = Math.max(track.gopMax, gop);
      }
      track.keyframes++;
      track.lastKeyDts = packet.dts;
    }
  }

  /** A snapshot; the probe can keep receiving packets afterwards. */
  result(): ProbeResult {
    const anomalies = [...this.anomalies];
    const anomalyCounts = { ...this.anomalyCounts };
    const derived = (a: ProbeAnomaly) => this.note(anomalies, anomalyCounts, a);

    const tracks = [...this.tracks.values()].filter((t) => t.codec !== undefined).map((t) => this.trackResult(t));
    let start = Infinity;
    let end = -Infinity;
    for (const t of this.tracks.values()) {
      if (t.frames === 0) continue;
      start = Math.min(start, t.firstDts);
      end = Math.max(end, t.maxPts + t.frameDuration);
    }
    const durationMs = end > start ? end - start : 0;

    const h = this.headerInfo;
    if (h) {
      for (const kind of ['audio', 'video'] as const) {
        const flagged = kind === 'audio' ? h.hasAudio : h.hasVideo;
        const present = tracks.some((t) => t.type === kind);
        if (flagged && !present) derived({ code: 'header-flags', message: `the FLV header announces ${kind}, but there is no ${kind} track`, offset: 4 });
        if (!flagged && present) derived({ code: 'header-flags', message: `the FLV header does not announce ${kind}, but there is a ${kind} track`, offset: 4 });
      }
    }
    for (const t of tracks) {
      if (t.type === 'video' && t.frames > 0 && t.keyframes === 0) {
        derived({ code: 'no-keyframe', message: `video track ${t.trackId}: ${t.frames} frames and not one keyframe` });
      }
    }
    if (this.metadata) this.checkMetadata(this.metadata, durationMs, tracks, derived);

    const video = tracks.filter((t) => t.type === 'video');
    return {
      header: h ? { ...h } : null,
      tracks,
      tags: { ...this.tagCounts, total: this.tagCounts.audio + this.tagCounts.video + this.tagCounts.script },
      bytes: this.bytes,
      durationMs,
      bitrate: durationMs > 0 ? Math.round((this.bytes * 8 * 1000) / durationMs) : 0,
      keyframes: video.reduce((n, t) => n + (t.keyframes ?? 0), 0),
      gop: video[0]?.gop ?? null,
      metadata: this.metadata,
      anomalies,
      anomalyCounts,
      error: this.error,
    };
  }

  private track(type: 'audio' | 'video', trackId: number): TrackState {
    const key = `${type}:${trackId}`;
    let t = this.tracks.get(key);
    if (!t) {
      t = {
        type, trackId, codec: undefined, info: undefined, described: false, sawConfig: false,
        tags: 0, frames: 0, keyframes: 0, bytes: 0, firstDts: 0, lastDts: 0, frameDuration: 0, maxPts: 0,
        lastKeyDts: 0, gopCount: 0, gopSum: 0, gopMin: Infinity, gopMax: 0,
      };
      this.tracks.set(key, t);
    }
    return t;
  }

  private describe(track: TrackState, packet: MediaPacket): void {
    let info: TrackInfo | undefined;
    try {
      info = describeTrack(packet);
    } catch (e) {
      // A broken configuration record makes the track undecodable, not the FLV unreadable.
      this.anomaly({ code: 'codec-config', message: `${track.type} track ${track.trackId}: ${(e as Error).message}`, offset: packet.offset });
      return;
    }
    track.described = true;
    if (!info) return;
    if (track.info && packet.config && !sameTrackInfo(track.info, info)) {
      this.anomaly({
        code: 'config-change',
        message: `${track.type} track ${track.trackId}: configuration changes from ${summarize(track.info)} to ${summarize(info)}`,
        offset: packet.offset,
      });
    }
    // The first description stands for the track, as a player joining at the start would see it.
    track.info ??= info;
    track.codec = info.codec;
  }

  private trackResult(t: TrackState): ProbeTrack {
    const durationMs = t.frames > 0 ? t.lastDts + t.frameDuration - t.firstDts : 0;
    const out: ProbeTrack = {
      type: t.type, codec: t.codec!, trackId: t.trackId,
      ...pick(t.info, ['profile', 'level', 'codecString', 'width', 'height', 'sampleRate', 'channels']),
      tags: t.tags,
      frames: t.frames,
      ...(t.type === 'video' ? { keyframes: t.keyframes } : {}),
      bytes: t.bytes,
      bitrate: durationMs > 0 ? Math.round((t.bytes * 8 * 1000) / durationMs) : 0,
      startMs: t.firstDts,
      durationMs,
    };
    if (t.type === 'video') {
      if (durationMs > 0) out.frameRate = Math.round((t.frames * 1000 * 100) / durationMs) / 100;
      out.gop = t.gopCount > 0
        ? { count: t.gopCount, minMs: t.gopMin, avgMs: Math.round(t.gopSum / t.gopCount), maxMs: t.gopMax }
        : null;
    }
    return out;
  }

  /** onMetaData is written by the muxer, often before it knew the truth; disagreements confuse players. */
  private checkMetadata(m: Record<string, unknown>, durationMs: number, tracks: ProbeTrack[], report: (a: ProbeAnomaly) => void): void {
    if (typeof m.duration === 'number' && m.duration > 0 && durationMs > 0 && Math.abs(m.duration * 1000 - durationMs) > 1000) {
      report({ code: 'metadata-mismatch', message: `onMetaData duration is ${m.duration} s, the tags span ${(durationMs / 1000).toFixed(3)} s` });
    }
    const video = tracks.find((t) => t.type === 'video' && t.width !== undefined);
    if (video && typeof m.width === 'number' && typeof m.height === 'number' && m.width > 0 && m.height > 0
      && (m.width !== video.width || m.height !== video.height)) {
      report({ code: 'metadata-mismatch', message: `onMetaData says ${m.width}x${m.height}, the video configuration ${video.width}x${video.height}` });
    }
  }

  private anomaly(a: ProbeAnomaly): void {
    this.note(this.anomalies, this.anomalyCounts, a);
  }

  private note(list: ProbeAnomaly[], counts: Partial<Record<ProbeAnomalyCode, number>>, a: ProbeAnomaly): void {
    counts[a.code] = (counts[a.code] ?? 0) + 1;
    if (list.length < this.maxAnomalies) list.push(a.offset === undefined ? { code: a.code, message: a.message } : a);
  }
}

/** Command frames and Enhanced RTMP Metadata packets travel as video tags but are not frames. */
function isVideoSideData(packet: MediaPacket): boolean {
  if (packet.config || packet.endOfSequence || packet.keyframe) return false;
  const b0 = packet.body[0] ?? 0;
  const frameType = (b0 >> 4) & 0x07;
  const exMetadata = (b0 & 0x80) !== 0 && (b0 & 0x0f) === 4;
  return frameType === 5 || exMetadata || packet.codec === 'unknown';
}

function pick<K extends keyof TrackInfo>(info: TrackInfo | undefined, keys: K[]): Partial<Pick<TrackInfo, K>> {
  const out: Partial<Pick<TrackInfo, K>> = {};
  if (info) for (const k of keys) if (info[k] !== undefined) out[k] = info[k];
  return out;
}

function sameTrackInfo(a: TrackInfo, b: TrackInfo): boolean {
  return a.codec === b.codec && a.codecString === b.codecString && a.width === b.width && a.height === b.height
    && a.sampleRate === b.sampleRate && a.channels === b.channels;
}

function summarize(i: TrackInfo): string {
  const parts: string[] = [i.codecString ?? i.codec];
  if (i.width !== undefined) parts.push(`${i.width}x${i.height}`);
  if (i.sampleRate !== undefined) parts.push(`${i.sampleRate} Hz`);
  if (i.channels !== undefined) parts.push(`${i.channels} ch`);
  return parts.join(' ');
}

export interface ProbeStreamOptions extends FlvProbeOptions {
  maxTagSize?: number;
}

/**
 * Probe an FLV byte stream to its end, or to the first error that makes it unreadable (then reported
 * in `error`, with everything before it). Only FlvErrors are captured; I/O errors propagate.
 */
export async function probeFlvStream(chunks: AsyncIterable<Buffer>, options: ProbeStreamOptions = {}): Promise<ProbeResult> {
  const maxTagSize = options.maxTagSize ?? FLV_MAX_TAG_SIZE;
  const probe = new FlvProbe(options);
  const demuxer = new FlvDemuxer({ maxTagSize, onWarning: (w) => probe.warning(w) });
  // When push() throws, the demuxer drops the packets it had already parsed from that chunk. The bytes
  // since the last packet the probe received are kept so those tags can be parsed again up to the
  // error. That is at most one tag plus a chunk, unless a stream emits nothing for a long while
  // (empty tags only), where giving up on the replay beats holding the stream in memory.
  const replayLimit = maxTagSize + (1 << 20);
  const pending: Buffer[] = [];
  /** Stream offset of pending[0]. */
  let pendingStart = 0;
  let pendingBytes = 0;
  /** Stream offset just past the body of the last tag the probe received (0: none yet). */
  let resumeAt = 0;
  let ended = false;
  try {
    for await (const chunk of chunks) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      const packets = demuxer.push(chunk);
      if (!probe.hasHeader && demuxer.header) probe.setHeader(demuxer.header);
      for (const p of packets) probe.push(p);
      const last = packets[packets.length - 1];
      if (last !== undefined) resumeAt = last.offset! + 11 + last.body.length;
      // Keep the chunk holding resumeAt and those after it; past the limit, only the newest chunk.
      while (pending.length > 1 && (pendingStart + pending[0]!.length <= resumeAt || pendingBytes > replayLimit)) {
        const dropped = pending.shift()!;
        pendingStart += dropped.length;
        pendingBytes -= dropped.length;
      }
    }
    ended = true;
    demuxer.end();
  } catch (error) {
    if (!(error instanceof FlvError)) throw error;
    if (!probe.hasHeader && demuxer.header) probe.setHeader(demuxer.header);
    // resumeAt before the retained bytes: the replay was given up (see replayLimit).
    if (!ended && resumeAt >= pendingStart) replay(Buffer.concat(pending), pendingStart, resumeAt, error.offset, maxTagSize, probe);
    probe.fail(error);
  }
  return probe.result();
}

/** Parse bytes [resumeAt, errorAt) again with a fresh demuxer and hand its packets to the probe. */
function replay(bytes: Buffer, bytesStart: number, resumeAt: number, errorAt: number, maxTagSize: number, probe: FlvProbe): void {
  // Past a tag body comes its PreviousTagSize and then the next tag header; at 0 the FLV header.
  const from = resumeAt === 0 ? 0 : resumeAt + 4;
  const slice = bytes.subarray(from - bytesStart, Math.max(0, errorAt - bytesStart));
  if (slice.length === 0) return;
  const demuxer = new FlvDemuxer({ maxTagSize, expectHeader: from === 0 });
  let packets: MediaPacket[];
  try {
    packets = demuxer.push(slice);
  } catch {
    return;
  }
  for (const p of packets) probe.push(from === 0 ? p : { ...p, offset: (p.offset ?? 0) + from });
}
