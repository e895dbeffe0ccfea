import type { Codec } from '../media/packet.js';
import { element, floatElement, openElement, stringElement, uintElement } from './ebml.js';

/** Matroska element IDs used here (from the Matroska specification). */
const ID = {
  EBML: 0x1a45dfa3, EBMLVersion: 0x4286, EBMLReadVersion: 0x42f7, EBMLMaxIDLength: 0x42f2, EBMLMaxSizeLength: 0x42f3,
  DocType: 0x4282, DocTypeVersion: 0x4287, DocTypeReadVersion: 0x4285,
  Segment: 0x18538067, Info: 0x1549a966, TimestampScale: 0x2ad7b1, MuxingApp: 0x4d80, WritingApp: 0x5741,
  Tracks: 0x1654ae6b, TrackEntry: 0xae, TrackNumber: 0xd7, TrackUID: 0x73c5, TrackType: 0x83, FlagLacing: 0x9c,
  CodecID: 0x86, CodecPrivate: 0x63a2, Video: 0xe0, PixelWidth: 0xb0, PixelHeight: 0xba,
  Audio: 0xe1, SamplingFrequency: 0xb5, Channels: 0x9f,
  Cluster: 0x1f43b675, Timestamp: 0xe7, SimpleBlock: 0xa3,
} as const;

/** Matroska's CodecID for each codec this writer carries (the codec private data is the FLV config record as is). */
const CODEC_IDS: Partial<Record<Codec, string>> = {
  avc: 'V_MPEG4/ISO/AVC',
  hevc: 'V_MPEGH/ISO/HEVC',
  av1: 'V_AV1',
  vp9: 'V_VP9',
  vp8: 'V_VP8',
  aac: 'A_AAC',
  mp3: 'A_MPEG/L3',
  opus: 'A_OPUS',
  flac: 'A_FLAC',
  ac3: 'A_AC3',
  eac3: 'A_EAC3',
};

export function matroskaCodecId(codec: Codec): string | undefined {
  return CODEC_IDS[codec];
}

export interface MatroskaTrack {
  /** 1-based, as Matroska numbers tracks (one byte in a SimpleBlock: at most 126 here). */
  number: number;
  kind: 'audio' | 'video';
  codec: Codec;
  /** avcC, hvcC, av1C, AudioSpecificConfig, OpusHead: the FLV sequence header's record. */
  codecPrivate?: Buffer;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
}

/** A cluster's blocks carry a signed 16-bit offset from its timestamp: start a new one well before that runs out. */
const MAX_CLUSTER_SPAN_MS = 30_000;

/**
 * A live Matroska writer for feeding a reader that does not take a codec in FLV (Debian's ffmpeg 5.1 reads
 * no Enhanced RTMP): the header once, then one SimpleBlock per frame, in clusters of unknown size that
 * start at each video keyframe. Timestamps are milliseconds (TimestampScale 1 ms), presentation order as
 * Matroska wants; blocks go in decode order as they come.
 */
export class MatroskaWriter {
  readonly #tracks: Map<number, MatroskaTrack>;
  #clusterStart: number | undefined;

  constructor(tracks: readonly MatroskaTrack[]) {
    this.#tracks = new Map(tracks.map((track) => [track.number, track]));
    for (const track of tracks) {
      if (!matroskaCodecId(track.codec)) throw new RangeError(`no Matroska mapping for ${track.codec}`);
      if (track.number < 1 || track.number > 126) throw new RangeError(`track number ${track.number} is outside 1..126`);
    }
  }

  /** The EBML header, the Segment (unknown size), Info and Tracks. */
  header(): Buffer {
    const ebml = element(
      ID.EBML,
      uintElement(ID.EBMLVersion, 1),
      uintElement(ID.EBMLReadVersion, 1),
      uintElement(ID.EBMLMaxIDLength, 4),
      uintElement(ID.EBMLMaxSizeLength, 8),
      stringElement(ID.DocType, 'matroska'),
      uintElement(ID.DocTypeVersion, 4),
      uintElement(ID.DocTypeReadVersion, 2),
    );
    const info = element(ID.Info, uintElement(ID.TimestampScale, 1_000_000), stringElement(ID.MuxingApp, 'wsflv'), stringElement(ID.WritingApp, 'wsflv'));
    const tracks = element(ID.Tracks, ...[...this.#tracks.values()].map((track) => this.#trackEntry(track)));
    return Buffer.concat([ebml, openElement(ID.Segment), info, tracks]);
  }

  /** One frame: a SimpleBlock, after a new Cluster when a video keyframe or the timestamp span asks for one. */
  frame(trackNumber: number, ptsMs: number, keyframe: boolean, data: Buffer): Buffer {
    const track = this.#tracks.get(trackNumber);
    if (!track) throw new RangeError(`no track ${trackNumber}`);
    const pts = Math.max(0, Math.round(ptsMs));
    const parts: Buffer[] = [];
    const start = this.#clusterStart;
    if (start === undefined || (keyframe && track.kind === 'video') || Math.abs(pts - start) > MAX_CLUSTER_SPAN_MS) {
      this.#clusterStart = pts;
      parts.push(openElement(ID.Cluster), uintElement(ID.Timestamp, pts));
    }
    const head = Buffer.alloc(4);
    head[0] = 0x80 | trackNumber;
    head.writeInt16BE(pts - this.#clusterStart!, 1);
    head[3] = keyframe ? 0x80 : 0;
    parts.push(element(ID.SimpleBlock, head, data));
    return Buffer.concat(parts);
  }

  #trackEntry(track: MatroskaTrack): Buffer {
    const children = [
      uintElement(ID.TrackNumber, track.number),
      uintElement(ID.TrackUID, track.number),
      uintElement(ID.TrackType, track.kind === 'video' ? 1 : 2),
      uintElement(ID.FlagLacing, 0),
      stringElement(ID.CodecID, matroskaCodecId(track.codec)!),
    ];
    if (track.codecPrivate && track.codecPrivate.length > 0) children.push(element(ID.CodecPrivate, track.codecPrivate));
    if (track.kind === 'video') {
      children.push(element(ID.Video, uintElement(ID.PixelWidth, track.width ?? 0), uintElement(ID.PixelHeight, track.height ?? 0)));
    } else {
      children.push(element(ID.Audio, floatElement(ID.SamplingFrequency, track.sampleRate ?? 48_000), uintElement(ID.Channels, track.channels ?? 2)));
    }
    return element(ID.TrackEntry, ...children);
  }
}
