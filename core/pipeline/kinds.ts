/**
 * What flows on a link between two components, the way GStreamer caps type a pad. The loader checks
 * that each component consumes what the one before it produces. New kinds are plain strings: a plugin
 * can introduce its own (e.g. 'mpegts-bytes') without touching this file.
 */
export type DataKind = 'flv-bytes' | 'media-packets' | (string & {});

export const FLV_BYTES: DataKind = 'flv-bytes';
export const MEDIA_PACKETS: DataKind = 'media-packets';

export function describeKind(kind: DataKind): string {
  switch (kind) {
    case 'flv-bytes': return 'FLV bytes';
    case 'media-packets': return 'media packets';
    default: return kind;
  }
}
