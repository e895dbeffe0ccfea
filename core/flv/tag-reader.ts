import { FlvDemuxer, type FlvDemuxerOptions, type FlvHeader } from './demuxer.js';
import { muxFlvHeader, muxTag } from './muxer.js';
import type { MediaPacket } from '../media/packet.js';

export interface FlvTagChunk {
  /** The FLV header (13 bytes with PreviousTagSize0), on the first item only. */
  header?: Buffer;
  /** One whole tag: header, body and PreviousTagSize. */
  tag: Buffer;
  packet: MediaPacket;
}

/**
 * Splits an FLV byte stream into whole tags with their timestamps, for anything that paces FLV by
 * media time (the file source in realtime mode, `wsflv publish`). The bytes are the demuxer's packets
 * muxed back, which for well-formed input are the input bytes themselves.
 */
export async function* readFlvTags(chunks: AsyncIterable<Buffer>, options: FlvDemuxerOptions = {}): AsyncGenerator<FlvTagChunk> {
  const demuxer = new FlvDemuxer(options);
  let header: FlvHeader | undefined;
  for await (const chunk of chunks) {
    for (const packet of demuxer.push(chunk)) {
      const first = header === undefined;
      header ??= demuxer.header;
      yield {
        header: first && header ? muxFlvHeader({ audio: header.hasAudio, video: header.hasVideo }) : undefined,
        tag: muxTag(packet),
        packet,
      };
    }
  }
  demuxer.end();
}
