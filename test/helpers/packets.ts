import { readFileSync } from 'node:fs';
import { lastValueFrom, from, toArray, type OperatorFunction } from 'rxjs';
import { FlvDemuxer } from '../../core/flv/demuxer.js';
import type { MediaPacket, TrackKind } from '../../core/media/packet.js';

export const FIXTURES = {
  h264Aac: 'test/fixtures/h264-aac-360p30-10s.flv',
  h264Only: 'test/fixtures/h264-only-240p25-10s.flv',
  aacOnly: 'test/fixtures/aac-only-10s.flv',
  h264Mp3: 'test/fixtures/h264-mp3-240p25-5s.flv',
  h264AacCropped: 'test/fixtures/h264-aac-642x362-2s.flv',
} as const;

export function demuxFile(path: string): MediaPacket[] {
  const demuxer = new FlvDemuxer();
  const packets = demuxer.push(readFileSync(path));
  demuxer.end();
  return packets;
}

/** A minimal packet for operator tests. */
export function packet(kind: TrackKind, dts: number, extra: Partial<MediaPacket> = {}): MediaPacket {
  return { kind, dts, cts: 0, pts: dts, keyframe: kind !== 'video', config: false, endOfSequence: false, codec: kind === 'audio' ? 'aac' : kind === 'video' ? 'avc' : 'amf0', body: Buffer.alloc(0), dataOffset: 0, ...extra };
}

export function run<A, B>(items: A[], operator: OperatorFunction<A, B>): Promise<B[]> {
  return lastValueFrom(from(items).pipe(operator, toArray()));
}
