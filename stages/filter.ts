import { injectable } from 'inversify';
import { filter, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { MediaPacket, TrackKind } from '../core/media/packet.js';
import type { StageComponent } from '../core/pipeline/component.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';

/** Drops every packet of the given track kinds (e.g. `['video']` for an audio-only output). */
export function dropTracks(kinds: readonly TrackKind[]): OperatorFunction<MediaPacket, MediaPacket> {
  const dropped = new Set(kinds);
  return filter((packet) => !dropped.has(packet.kind));
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
  readonly description = 'Drops audio, video or script tags';
  readonly consumes = MEDIA_PACKETS;
  readonly produces = MEDIA_PACKETS;
  readonly options = options;

  create(config: z.infer<typeof options>) {
    return () => dropTracks(config.drop);
  }
}
