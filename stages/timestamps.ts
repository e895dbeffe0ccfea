import { injectable } from 'inversify';
import { map, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { MediaPacket } from '../core/media/packet.js';
import type { StageComponent } from '../core/pipeline/component.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';

export type TimestampMode = 'full' | 'zero' | 'off';

export interface TimestampOptions {
  mode: TimestampMode;
  /** In `full` mode, a step larger than this (or any step back) within one track is a discontinuity. */
  maxJumpMs?: number;
}

const DEFAULT_FRAME_MS = { audio: 23, video: 33, script: 0 } as const;

/**
 * Makes timestamps usable by players, the way SRS's jitter correction does:
 * - `full`: start at 0, monotonic per track, and a discontinuity (a step back, or a jump forward past
 *   `maxJumpMs`, as when an encoder restarts or a file loops) is closed up to one frame interval. One
 *   offset is shared by all tracks, so audio and video stay in sync across the correction.
 * - `zero`: only shift so the stream starts at 0 (negative results clamp to 0).
 * - `off`: untouched.
 * The composition offset (cts) travels inside the tag body and is kept, so pts moves with dts.
 */
export function correctTimestamps(options: TimestampOptions): OperatorFunction<MediaPacket, MediaPacket> {
  if (options.mode === 'off') return (source) => source;
  const maxJump = options.maxJumpMs ?? 1000;
  let offset: number | undefined;
  const last: Partial<Record<MediaPacket['kind'], number>> = {};
  const interval: Record<MediaPacket['kind'], number> = { ...DEFAULT_FRAME_MS };

  return map((packet) => {
    offset ??= -packet.dts;
    let dts = packet.dts + offset;
    if (options.mode === 'full') {
      const previous = last[packet.kind];
      if (previous !== undefined) {
        const step = dts - previous;
        if (step < 0 || step > maxJump) {
          dts = previous + interval[packet.kind];
          offset = dts - packet.dts;
        } else if (step > 0 && !packet.config) {
          // A running estimate of the frame interval, for the next discontinuity.
          interval[packet.kind] = Math.round((interval[packet.kind] * 7 + step) / 8);
        }
      }
      dts = Math.max(dts, previous ?? 0, 0);
      last[packet.kind] = dts;
    } else {
      dts = Math.max(dts, 0);
    }
    return dts === packet.dts ? packet : { ...packet, dts, pts: dts + packet.cts };
  });
}

const options = z
  .object({
    mode: z.enum(['full', 'zero', 'off']).default('full').describe('full: start at 0, monotonic, jumps smoothed; zero: start at 0; off: untouched'),
    maxJumpMs: z.number().int().min(1).max(60_000).default(1000).describe('full mode: a larger step within a track is a discontinuity'),
  })
  .strict();

@injectable()
export class TimestampsStage implements StageComponent<z.infer<typeof options>> {
  readonly role = 'stage';
  readonly type = 'timestamps';
  readonly description = 'Corrects timestamps: start at 0, monotonic per track, discontinuities smoothed';
  readonly consumes = MEDIA_PACKETS;
  readonly produces = MEDIA_PACKETS;
  readonly options = options;

  create(config: z.infer<typeof options>) {
    return () => correctTimestamps(config);
  }
}
