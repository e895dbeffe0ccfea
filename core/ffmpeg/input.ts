import { describeTrack } from '../codecs/describe.js';
import { muxFlvHeader, muxTag } from '../flv/muxer.js';
import { MatroskaWriter, matroskaCodecId, type MatroskaTrack } from '../matroska/writer.js';
import type { Codec, MediaPacket } from '../media/packet.js';

/** Codecs Debian's ffmpeg 5.1 does not read from FLV (Enhanced RTMP): those streams go to it as Matroska. */
const NOT_IN_LEGACY_FLV: ReadonlySet<Codec> = new Set<Codec>(['hevc', 'av1', 'vp9', 'vp8', 'opus', 'flac', 'ac3', 'eac3']);

/** Without onMetaData saying which tracks come, a track missing after this long (or this many packets) is taken as absent. */
const HOLD_MAX_MS = 1000;
const HOLD_MAX_PACKETS = 300;

/** The tracks onMetaData announces (hasVideo/hasAudio, or a codec id), or undefined when it says nothing. */
function announcedTracks(metadata: unknown): Set<'audio' | 'video'> | undefined {
  if (metadata === null || typeof metadata !== 'object') return undefined;
  const m = metadata as Record<string, unknown>;
  const has = (kind: 'audio' | 'video') => {
    const flag = m[kind === 'audio' ? 'hasAudio' : 'hasVideo'];
    if (typeof flag === 'boolean') return flag;
    return m[kind === 'audio' ? 'audiocodecid' : 'videocodecid'] !== undefined ? true : undefined;
  };
  const audio = has('audio');
  const video = has('video');
  if (audio === undefined && video === undefined) return undefined;
  return new Set([...(audio ? ['audio' as const] : []), ...(video ? ['video' as const] : [])]);
}

export type InputContainer = 'flv' | 'matroska';

/** A stream ffmpeg cannot be fed: a codec neither FLV nor Matroska carries here. */
export class UnfeedableStreamError extends Error {}

/**
 * Turns one stream's packets into the bytes ffmpeg reads on stdin: FLV as it came when ffmpeg reads
 * every codec in it, Matroska when a track is Enhanced RTMP only. The choice needs the stream's tracks,
 * so packets are held until the first frame that is not a configuration (configurations come first);
 * a track whose configuration arrives later than that is not in the Matroska header and is left out.
 * Script tags are not fed: the caller rebuilds onMetaData from ffmpeg's output and the input's.
 */
export class FfmpegInput {
  #held: MediaPacket[] = [];
  #container: InputContainer | undefined;
  #matroska: MatroskaWriter | undefined;
  #trackNumbers = new Map<'audio' | 'video', number>();
  #expected: Set<'audio' | 'video'> | undefined;
  /** Frames of a track left out of the Matroska header (counted, for the log). */
  skipped = 0;

  get container(): InputContainer | undefined {
    return this.#container;
  }

  /**
   * The bytes for this packet (empty while the tracks are not known yet). The first non-empty answer
   * starts with the container's header; `container` is set from then on.
   */
  push(packet: MediaPacket): Buffer[] {
    if (packet.kind === 'script') {
      if (packet.script?.name === 'onMetaData' && this.#container === undefined) this.#expected = announcedTracks(packet.script.values[0]);
      return [];
    }
    if (this.#container === undefined) {
      this.#held.push(packet);
      return this.#ready() ? this.#start() : [];
    }
    return this.#encode(packet);
  }

  /** Tracks are known once a frame came and every announced track was seen (or waiting would hold too much). */
  #ready(): boolean {
    const held = this.#held;
    if (!held.some((p) => !p.config)) return false;
    const seen = new Set(held.map((p) => p.kind));
    const expected = this.#expected ?? new Set<'audio' | 'video'>(['audio', 'video']);
    if ([...expected].every((kind) => seen.has(kind))) return true;
    const span = held[held.length - 1]!.dts - held[0]!.dts;
    return span >= HOLD_MAX_MS || held.length >= HOLD_MAX_PACKETS;
  }

  /** The stream ended before any frame: whatever was held, with its header (ffmpeg then ends cleanly). */
  flush(): Buffer[] {
    return this.#container === undefined && this.#held.length > 0 ? this.#start() : [];
  }

  #start(): Buffer[] {
    const held = this.#held;
    this.#held = [];
    const enhanced = held.some((packet) => NOT_IN_LEGACY_FLV.has(packet.codec));
    const out: Buffer[] = [];
    if (!enhanced) {
      this.#container = 'flv';
      out.push(muxFlvHeader({ audio: held.some((p) => p.kind === 'audio'), video: held.some((p) => p.kind === 'video') }));
    } else {
      this.#container = 'matroska';
      const tracks: MatroskaTrack[] = [];
      for (const kind of ['video', 'audio'] as const) {
        const config = held.find((p) => p.kind === kind && p.config);
        const first = held.find((p) => p.kind === kind);
        if (!first) continue;
        if (!matroskaCodecId(first.codec)) throw new UnfeedableStreamError(`${kind} codec ${first.codec} cannot be fed to ffmpeg`);
        const info = config ? describeTrack(config) : describeTrack(first);
        const number = tracks.length + 1;
        this.#trackNumbers.set(kind, number);
        tracks.push({
          number,
          kind,
          codec: first.codec,
          ...(config ? { codecPrivate: Buffer.from(config.body.subarray(config.dataOffset)) } : {}),
          ...(info?.width ? { width: info.width } : {}),
          ...(info?.height ? { height: info.height } : {}),
          ...(info?.sampleRate ? { sampleRate: info.sampleRate } : {}),
          ...(info?.channels ? { channels: info.channels } : {}),
        });
      }
      this.#matroska = new MatroskaWriter(tracks);
      out.push(this.#matroska.header());
    }
    for (const packet of held) out.push(...this.#encode(packet));
    return out;
  }

  #encode(packet: MediaPacket): Buffer[] {
    if (this.#container === 'flv') return [muxTag(packet)];
    if (packet.kind === 'script' || packet.config || packet.endOfSequence) return [];
    const number = this.#trackNumbers.get(packet.kind);
    if (number === undefined) {
      this.skipped++;
      return [];
    }
    return [this.#matroska!.frame(number, packet.pts, packet.keyframe, packet.body.subarray(packet.dataOffset))];
  }
}
