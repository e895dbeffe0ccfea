import { injectable } from 'inversify';
import { filter, map, pipe, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import { encodeScriptData, isEcmaArray, markEcmaArray } from '../core/flv/amf0.js';
import type { MediaPacket, TrackKind } from '../core/media/packet.js';
import type { StageComponent } from '../core/pipeline/component.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';

/** onMetaData fields that describe one track: removed with the track, so nobody waits for it. */
const TRACK_FIELDS: Record<'audio' | 'video', readonly string[]> = {
  audio: ['audiocodecid', 'audiodatarate', 'audiosamplerate', 'audiosamplesize', 'stereo', 'audiodelay'],
  video: ['videocodecid', 'videodatarate', 'width', 'height', 'framerate', 'videoframerate'],
};

/**
 * Drops every packet of the given track kinds (e.g. `['video']` for an audio-only output). When a
 * media track goes, onMetaData is rewritten to say so (`hasVideo: false`, its video fields removed):
 * a player told to expect a track that never comes waits for it, or shows a black screen.
 */
export function dropTracks(kinds: readonly TrackKind[]): OperatorFunction<MediaPacket, MediaPacket> {
  const dropped = new Set(kinds);
  const media = (['audio', 'video'] as const).filter((kind) => dropped.has(kind));
  return pipe(
    filter((packet) => !dropped.has(packet.kind)),
    map((packet) => (media.length > 0 && packet.script?.name === 'onMetaData' ? withoutTracks(packet, media) : packet)),
  );
}

function withoutTracks(packet: MediaPacket, kinds: readonly ('audio' | 'video')[]): MediaPacket {
  const [metadata, ...rest] = packet.script!.values;
  if (metadata === null || typeof metadata !== 'object') return packet;
  const copy: Record<string, unknown> = { ...(metadata as Record<string, unknown>) };
  if (isEcmaArray(metadata)) markEcmaArray(copy);
  for (const kind of kinds) {
    for (const field of TRACK_FIELDS[kind]) delete copy[field];
    copy[kind === 'audio' ? 'hasAudio' : 'hasVideo'] = false;
  }
  const values = [copy, ...rest];
  return { ...packet, body: encodeScriptData('onMetaData', values), script: { name: 'onMetaData', values } };
}

const options = z
  .object({
    drop: z.array(z.enum(['audio', 'video', 'script'])).min(1).describe('track kinds to drop'),
  })
  .strict();

@injectable()
export class FilterStage implements StageComponent<z.infer<typeof options>> {
  readonly role = 'stage';
  readonly type = 'filter';
  readonly description = 'Drops audio, video or script tags (onMetaData is rewritten to match)';
  readonly consumes = MEDIA_PACKETS;
  readonly produces = MEDIA_PACKETS;
  readonly options = options;

  create(config: z.infer<typeof options>) {
    return () => dropTracks(config.drop);
  }
}
